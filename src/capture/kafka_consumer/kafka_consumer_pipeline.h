#pragma once
// mode = "kafka": the Kafka route's consumer (the seed's consumer.service) as a capture mode.
// It reads what a producing pipeline (sink = "kafka") published and writes it to ClickHouse.
// PostgreSQL is still needed: for the tables' catalog description (column types) and for the
// current rows of key-only events.
#include <atomic>
#include <memory>

#include "capture/capture_mode.h"
#include "config/config.h"

namespace pg2ch::capture::kafka_consumer {

// Creates the ClickHouse targets; nothing is created in PostgreSQL or Kafka.
void setup(const config::Config& cfg);
// Starts the pipeline (targets, initial copy where the mode has one, input connected); nullptr
// when `stop` was set during start-up. service/pipeline_loop.h turns it.
std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>& stop,
                                   const RunOptions& options);
// Group lag per partition (committed offset vs end of the partition), table counts and table
// states (capture/table_sync; stopped ones need attention).
StatusReport status(const config::Config& cfg);
// Nothing to remove at the source; with drop_targets the ClickHouse tables.
void teardown(const config::Config& cfg, bool drop_targets);

}  // namespace pg2ch::capture::kafka_consumer
