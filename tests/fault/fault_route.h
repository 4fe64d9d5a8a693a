#pragma once
// One route under faults: its pg2ch processes (one, or producer and consumer for the Kafka route)
// run as child processes against the mixed workload (mixed_workload.h), ClickHouse reached
// through a relay that can refuse inserts. The run:
//   1. PostgreSQL shut down `immediate` while the first start copies the seeded tables (once the
//      targets hold some of the rows);
//   2. half of the SIGKILLs at seeded random moments (0.3-2.5 s apart), each followed by a start;
//   3. the outages: ClickHouse restarted, ClickHouse stopped for 20 s (beyond the sink's retries:
//      the run restarts in-process), PostgreSQL restarted with a fast and an immediate shutdown,
//      the Kafka broker down for 5 s (Kafka route), every ClickHouse user readonly for 3 s (a real
//      `readonly = 1` profile; pg2ch exits 4, a permission error; it is started again as an
//      operator would), and one
//      target dropped in ClickHouse under the pipeline;
//   4. the other half of the kills; then the workload stops, and the test requires every table
//      equal row by row (id, n, md5 of body) and `pg2ch verify` reporting each table equal.
//
// PG2CH_FAULT_KILLS: kills per process (default 3, the CI subset; scripts/fault.sh uses 20);
// PG2CH_FAULT_SEED: the seed of the workload and of the kill timing (default: from the clock;
// printed, so a failure can be run again the same way); PG2CH_FAULT_REPORT: a file that gets one
// line per route with the figures (scripts/fault.sh builds the README table from it).
#include <functional>
#include <string>

#include "config/config.h"
#include "support/test_database.h"

namespace pg2ch::test::fault {

struct Route {
  std::string name;
  bool deletes_and_key_changes = true;  // false: poll and notify see neither
  bool setup = false;                   // `pg2ch setup` installs triggers before the first run
  bool kafka = false;                   // logical → Kafka → consumer: two processes
  // Kafka route only: also a target dropped in ClickHouse, the fault it does not survive yet
  // (routes_test.cpp, DISABLED_LogicalKafkaConsumerKnownLoss).
  bool known_losses = true;
  // The route's config (for the Kafka route: the producer's, whose mode is logical).
  std::function<config::Config(const TestDatabase&)> config;
};

// Runs the whole scenario; failures are reported through gtest assertions.
void run_route(const Route& route);

}  // namespace pg2ch::test::fault
