#pragma once
// The error policy around a pipeline's run: a transient error (is_transient) restarts the run
// from its last acknowledged position after a capped, jittered backoff, logged and counted, and
// the process stays up; any other error propagates to the caller, which exits with
// exit_code_for() it. A stop (SIGTERM) during the backoff ends the run cleanly.
//
// Restarting the whole run is the same recovery a process restart gives, which every capture
// mode already survives (acknowledgement only after the sink made a change durable), without
// losing the process: systemd sees one long-lived service, not a restart loop.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "capture/capture_mode.h"
#include "config/config.h"
#include "metrics/pipeline_metrics.h"

namespace pg2ch::service {

struct DriverStats {
  std::uint64_t runs = 0;     // starts of the capture's run, the first included
  std::uint64_t retries = 0;  // restarts after a transient error
};

// The part of a run the policy drives: usually capture_mode(cfg.mode).run.
using RunFunction = std::function<void(const config::Config&, const std::atomic<bool>&, const capture::RunOptions&)>;

// Returns when the run returned (stopped or caught up); throws the first error that is not
// transient. `stats` and `metrics` (state, retries, errors), when given, are updated as it goes.
void drive(const config::Config& cfg, const RunFunction& run, const std::atomic<bool>& stop,
           const capture::RunOptions& options, DriverStats* stats = nullptr,
           metrics::PipelineMetrics* metrics = nullptr);

}  // namespace pg2ch::service
