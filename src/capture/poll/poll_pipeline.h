#pragma once
// mode = "poll": the seed's route 1, `SELECT ... WHERE watermark > last ORDER BY watermark LIMIT n`
// on a timer, made safe against out-of-order commits by the visibility horizon (README.md).
// `setup` checks the watermark columns and creates the ClickHouse targets; nothing is installed
// at the source. Deletes are not captured (use mode = "outbox").
#include <atomic>
#include <memory>

#include "capture/capture_mode.h"
#include "config/config.h"

namespace pg2ch::capture::poll {

void setup(const config::Config& cfg);
// Starts the pipeline (targets, initial copy where the mode has one, input connected); nullptr
// when `stop` was set during start-up. service/pipeline_loop.h turns it.
std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>& stop,
                                   const RunOptions& options);
StatusReport status(const config::Config& cfg);
void teardown(const config::Config& cfg, bool drop_targets);

}  // namespace pg2ch::capture::poll
