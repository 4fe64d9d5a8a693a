#include "service/pipeline_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "capture/change_source.h"

namespace pg2ch::service {
namespace {

using Clock = std::chrono::steady_clock;

// The longest a source may block in one turn: the loop's own duties (watchdog, summary, stop)
// come back at least this often.
constexpr std::chrono::milliseconds kMaxTurnWait{1000};

// How often the source is asked for its lag (a query to the server in logical mode).
constexpr auto kLagEvery = std::chrono::seconds(10);

std::string format_lag(const pipeline::LagSample& lag) {
  std::string out;
  if (lag.lag_seconds) out += fmt::format("; lag {:.1f} s", *lag.lag_seconds);
  if (lag.lag_bytes) out += fmt::format("; slot lag {:.1f} MB", *lag.lag_bytes / 1e6);
  if (lag.retained_wal_bytes) out += fmt::format(", WAL retained {:.1f} MB", *lag.retained_wal_bytes / 1e6);
  if (lag.wal_status && *lag.wal_status != "reserved") out += fmt::format(" (wal_status {})", *lag.wal_status);
  if (lag.pending_messages) out += fmt::format("; {} messages not yet read", *lag.pending_messages);
  return out;
}

// The periodic info line: what moved since the last one, so a quiet pipeline reads as quiet.
class SummaryLine {
 public:
  SummaryLine(const config::Config& cfg, const metrics::PipelineMetrics* metrics)
      : cfg_(cfg), metrics_(metrics), last_(Clock::now()) {
    if (metrics_) tables_ = metrics_->table_totals();
  }

  std::chrono::milliseconds until_due() const {
    if (cfg_.log.summary_interval.count() == 0) return kMaxTurnWait;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(last_ + cfg_.log.summary_interval -
                                                                             Clock::now());
    return std::clamp(left, std::chrono::milliseconds(0), kMaxTurnWait);
  }

  void maybe_log(capture::ChangeSource& source, const pipeline::LagSample& lag) {
    if (cfg_.log.summary_interval.count() == 0 || until_due().count() > 0) return;
    const auto now = Clock::now();
    const pipeline::SinkStats s = source.sink().stats();
    const double seconds = std::chrono::duration<double>(now - last_).count();
    const auto rate = [&](std::uint64_t n) { return seconds > 0 ? n / seconds : 0.0; };
    const auto rows = s.rows_written - logged_.rows_written;
    spdlog::info("summary: {:.0f} rows/s written over {:.0f} s ({} rows in {} batches, {:.1f} MB){}{}; {}", rate(rows),
                 seconds, rows, s.inserts - logged_.inserts, (s.bytes_written - logged_.bytes_written) / 1e6,
                 format_lag(lag), table_rates(rate), source.progress());
    logged_ = s;
    last_ = now;
  }

 private:
  // The busiest tables since the last line, by changes read.
  template <typename Rate>
  std::string table_rates(const Rate& rate) {
    if (!metrics_) return {};
    auto now = metrics_->table_totals();
    std::vector<std::pair<std::uint64_t, std::string>> moved;
    for (const auto& [name, t] : now) {
      const auto it = tables_.find(name);
      const auto before = it == tables_.end() ? 0 : it->second.changes;
      if (t.changes > before) moved.emplace_back(t.changes - before, name);
    }
    tables_ = std::move(now);
    if (moved.empty()) return "; no changes";
    std::sort(moved.rbegin(), moved.rend());
    constexpr std::size_t kShown = 5;
    std::string out = "; changes/s";
    for (std::size_t i = 0; i < moved.size() && i < kShown; ++i) {
      out += fmt::format("{} {} {:.1f}", i == 0 ? "" : ",", moved[i].second, rate(moved[i].first));
    }
    if (moved.size() > kShown) out += fmt::format(" and {} more table(s)", moved.size() - kShown);
    return out;
  }

  const config::Config& cfg_;
  const metrics::PipelineMetrics* metrics_;
  Clock::time_point last_;
  pipeline::SinkStats logged_;
  std::map<std::string, metrics::PipelineMetrics::TableTotals> tables_;
};

}  // namespace

void run_pipeline(const config::Config& cfg, const std::atomic<bool>& stop, const capture::RunOptions& options,
                  metrics::PipelineMetrics* metrics) {
  auto source = capture::capture_mode(cfg.mode).open(cfg, stop, options);
  if (!source) return;  // stopped during start-up
  options.ready();
  SummaryLine summary(cfg, metrics);
  pipeline::LagSample lag;
  auto lag_at = Clock::time_point{};
  while (!stop.load(std::memory_order_relaxed)) {
    options.alive();
    if (source->turn(summary.until_due(), stop) == capture::Turn::CaughtUp) break;
    if (Clock::now() - lag_at >= kLagEvery) {
      lag = source->lag();
      lag_at = Clock::now();
      if (options.observer) options.observer->lag(lag);
    }
    summary.maybe_log(*source, lag);
    if (options.reload_requested && options.reload_requested->exchange(false) && options.reload) {
      options.reload();
      source->sink().set_batch_limits(cfg.batch);
    }
  }
  if (metrics) metrics->set_state(metrics::PipelineState::Stopping);
  source->finish();
  const pipeline::SinkStats s = source->sink().stats();
  spdlog::info("stopped: {}; {} rows in {} inserts", source->progress(), s.rows_written, s.inserts);
}

}  // namespace pg2ch::service
