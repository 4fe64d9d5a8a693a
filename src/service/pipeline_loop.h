#pragma once
// The one loop every capture mode runs in: start-up (capture_mode(cfg.mode).open: targets,
// initial copy, input), readiness, then turns of the source until stopped or caught up, then
// the orderly stop (the sink writes what it holds, the source acknowledges what is durable).
// Between turns it keeps the watchdog fed, writes the periodic summary line and hands the
// metrics their samples, so no mode carries its own copy of any of that.
//
// The error policy wraps this loop (service/run_driver.h): a transient error ends one
// run_pipeline() and drive() starts the next from the last acknowledged position.
#include <atomic>

#include "capture/capture_mode.h"
#include "config/config.h"
#include "metrics/pipeline_metrics.h"

namespace pg2ch::service {

// Throws pg2ch::Error from start-up or from a turn; returns after an orderly stop or once
// caught up (options.stop_when_caught_up).
// `metrics` (may be null) gives the summary line its per-table rates and is told when the stop
// begins; lag samples and every other event go to options.observer (which passes them on to it).
void run_pipeline(const config::Config& cfg, const std::atomic<bool>& stop, const capture::RunOptions& options,
                  metrics::PipelineMetrics* metrics = nullptr);

}  // namespace pg2ch::service
