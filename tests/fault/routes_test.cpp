// Every route under the faults of fault_route.h, each ending with every row equal and `pg2ch verify`
// reporting equality. CI runs 3 kills per process (ctest entry fault_ci); scripts/fault.sh runs 20.
#include <gtest/gtest.h>

#include "fault/fault_route.h"
#include "fault/mixed_workload.h"
#include "support/test_config.h"

namespace pg2ch::test::fault {
namespace {

using namespace std::chrono_literals;

config::Config watermark_mode(const TestDatabase& db, const std::string& mode) {
  auto cfg = make_test_config(db, MixedWorkload::tables());
  cfg.mode = mode;
  cfg.poll.watermark = "updated_at";
  cfg.poll.interval = 100ms;
  cfg.notify.channel = db.name();
  return cfg;
}

TEST(Fault, Logical) {
  run_route({.name = "logical", .config = [](const TestDatabase& db) { return make_test_config(db, MixedWorkload::tables()); }});
}

TEST(Fault, Poll) {
  run_route({.name = "poll",
             .deletes_and_key_changes = false,
             .config = [](const TestDatabase& db) { return watermark_mode(db, "poll"); }});
}

TEST(Fault, Notify) {
  run_route({.name = "notify",
             .deletes_and_key_changes = false,
             .setup = true,
             .config = [](const TestDatabase& db) { return watermark_mode(db, "notify"); }});
}

TEST(Fault, Outbox) {
  run_route({.name = "outbox", .setup = true, .config = [](const TestDatabase& db) {
               auto cfg = make_test_config(db, MixedWorkload::tables());
               cfg.mode = "outbox";
               cfg.outbox.interval = 50ms;
               return cfg;
             }});
}

// The Kafka route without the fault it does not survive yet (below): no target is dropped.
TEST(Fault, LogicalKafkaConsumer) {
  run_route({.name = "logical-kafka-consumer", .kafka = true, .known_losses = false,
             .config = [](const TestDatabase& db) { return make_test_config(db, MixedWorkload::tables()); }});
}

// DISABLED: a fault the Kafka route does not recover from by itself (seed 844511825, 2 kills per
// process; run it with --gtest_also_run_disabled_tests): a consumer's target dropped in ClickHouse
// used to be created again empty and filled only by later events (13,093 of 49,282 rows of
// fault_c missing, silently). Now that table stops, saying why
// (KafkaConsumerTableStates.ATargetDroppedStopsItsTableUntilAReplay), and comes back with a replay
// from the beginning (or a resync of the producer first, when the topic no longer holds
// everything): an operator's step this scenario does not take, so it ends unequal. (It also found that a producer snapshot that starts over, PostgreSQL shut down
// mid-copy, did not retract the `r` events the cut copy had published: rows deleted before the new
// snapshot stayed in ClickHouse, 64 + 12 rows. Fixed: a copy through the sink now starts with a
// TRUNCATE of its tables, capture/logical/snapshot_to_sink.cpp; the enabled test above covers it.)
TEST(Fault, DISABLED_LogicalKafkaConsumerKnownLoss) {
  run_route({.name = "logical-kafka-consumer-known-loss", .kafka = true, .config = [](const TestDatabase& db) {
               return make_test_config(db, MixedWorkload::tables());
             }});
}

}  // namespace
}  // namespace pg2ch::test::fault
