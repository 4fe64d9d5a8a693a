#pragma once
// The outbox capture (mode = "outbox", seed route 4 without Kafka): statement triggers write
// every change of the captured tables into an events table at the source, and `run` drains it
// into the sink. For managed databases without replication slots or wal_level = logical.
// Design note: src/capture/outbox/README.md; the drain transaction: outbox_drainer.h.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "capture/capture_mode.h"
#include "config/config.h"

namespace pg2ch::capture::outbox {

// Creates the events and progress tables, the triggers on every captured table and the
// ClickHouse targets. Idempotent. Rows that exist before setup are not queued (see the README).
void setup(const config::Config& cfg);
// Drains until `stop` (or, with stop_when_caught_up, until a claim finds nothing and the sink is
// durable). Requires setup; several `run`s of one pipeline may drain together.
// Starts the pipeline (targets, initial copy where the mode has one, input connected); nullptr
// when `stop` was set during start-up. service/pipeline_loop.h turns it.
std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>& stop,
                                   const RunOptions& options);
StatusReport status(const config::Config& cfg);
void teardown(const config::Config& cfg, bool drop_targets);
// Marks tables to be copied again (outbox_copy.h) at the pipeline's next start.
void resync(const config::Config& cfg, const std::vector<std::string>& tables);

}  // namespace pg2ch::capture::outbox
