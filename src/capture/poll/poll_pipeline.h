#pragma once
// mode = "poll": the seed's route 1, `SELECT ... WHERE watermark > last ORDER BY watermark LIMIT n`
// on a timer, made safe against out-of-order commits by the visibility horizon (README.md).
// `setup` checks the watermark columns and creates the ClickHouse targets; nothing is installed
// at the source. Deletes are not captured (use mode = "outbox").
#include <atomic>

#include "capture/capture_mode.h"
#include "config/config.h"

namespace pg2ch::capture::poll {

void setup(const config::Config& cfg);
void run(const config::Config& cfg, const std::atomic<bool>& stop, const RunOptions& options);
bool status(const config::Config& cfg);
void teardown(const config::Config& cfg, bool drop_targets);

}  // namespace pg2ch::capture::poll
