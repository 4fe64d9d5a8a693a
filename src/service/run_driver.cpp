#include "service/run_driver.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "common/error.h"
#include "common/interruptible_sleep.h"
#include "service/backoff.h"
#include "service/exit_codes.h"

namespace pg2ch::service {
namespace {

using Clock = std::chrono::steady_clock;

// A run that streamed this long before failing counts as healthy: the next failure starts the
// backoff from its first step again instead of waiting the longest delay at once.
constexpr auto kHealthyRun = std::chrono::minutes(1);
constexpr std::chrono::milliseconds kAliveStep{1000};

}  // namespace

void drive(const config::Config& cfg, const RunFunction& run, const std::atomic<bool>& stop,
           const capture::RunOptions& options, DriverStats* stats, metrics::PipelineMetrics* metrics) {
  DriverStats local;
  DriverStats& s = stats ? *stats : local;
  Backoff backoff(cfg.service.retry_initial, cfg.service.retry_max);
  bool reported_ready = false;
  for (;;) {
    bool ready = false;
    Clock::time_point ready_at{};
    capture::RunOptions attempt = options;
    // The caller hears "ready" once per process (systemd's READY=1), not after every retry.
    attempt.on_ready = [&] {
      if (metrics) metrics->set_state(metrics::PipelineState::Streaming);
      ready = true;
      ready_at = Clock::now();
      if (!reported_ready && options.on_ready) options.on_ready();
      reported_ready = true;
    };
    ++s.runs;
    if (metrics) {
      metrics->run_started();
      metrics->set_state(metrics::PipelineState::Starting);
    }
    try {
      run(cfg, stop, attempt);
      if (metrics) metrics->set_state(metrics::PipelineState::Stopping);
      return;
    } catch (const Error& e) {
      if (!is_transient(e)) {
        if (metrics) metrics->failed(e.kind());
        throw;
      }
      if (stop.load()) {
        spdlog::info("stopping: {} (the stop interrupted it)", e.one_line());
        return;
      }
      if (ready && Clock::now() - ready_at >= kHealthyRun) backoff.reset();
      const auto wait = backoff.next();
      ++s.retries;
      if (metrics) {
        metrics->retried(e.kind());
        metrics->set_state(metrics::PipelineState::Retrying);
      }
      spdlog::warn("{} error, retrying in {:.1f} s (retry {}, {} in all): {}", to_string(e.kind()),
                   std::chrono::duration<double>(wait).count(), backoff.attempts(), s.retries, e.one_line());
      // In steps, saying alive: waiting out a backoff is not a stuck loop (watchdog, /healthz).
      for (auto left = wait; left.count() > 0 && !stop.load(); left -= kAliveStep) {
        options.alive();
        sleep_unless_stopped(std::min(left, kAliveStep), stop);
      }
      if (stop.load()) return;
    }
  }
}

}  // namespace pg2ch::service
