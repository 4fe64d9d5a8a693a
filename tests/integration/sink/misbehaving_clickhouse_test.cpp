// A ClickHouse that misbehaves mid-stream (issue 13 item 3; docs/bad-input.md): answering 500
// to batches (having written them or not), or accepting connections and never answering. The
// batches are sent again until ClickHouse acknowledges them, the process stays up throughout, and
// nothing was acknowledged to PostgreSQL past them: pg2ch SIGKILLed while ClickHouse still
// misbehaves (its retries held in memory lost) and started again ends equal to the source.
// (The slot's confirmed_flush_lsn itself may pass the start of a failing batch's transaction: a
// keepalive mid-transaction confirms the server's position, and PostgreSQL decodes again every
// transaction that commits after it.)
// (HTTP 200 with an exception in the body: ok_with_exception_test.cpp.)
#include <gtest/gtest.h>

#include <thread>

#include "kafka/port_forwarder.h"
#include "support/black_hole.h"
#include "support/clickhouse_relay.h"
#include "support/fixture.h"
#include "support/free_port.h"
#include "support/pg2ch_cli.h"
#include "support/quick_retries.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

config::Config quick(const TestDatabase& db, int clickhouse_port) {
  auto cfg = with_quick_retries(make_test_config(db, {"public.t"}));
  cfg.clickhouse.port = clickhouse_port;
  cfg.batch.max_delay = 100ms;
  return cfg;
}

void write_changes(TestDatabase& db, int from) {
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(" + std::to_string(from) + ", " +
             std::to_string(from + 499) + ") g");
  db.pg_exec("UPDATE t SET v = v || '!' WHERE id % 7 = 0");
  db.pg_exec("DELETE FROM t WHERE id % 11 = 0");
}

class MisbehavingClickHouse : public ::testing::TestWithParam<bool> {};

// The parameter: whether ClickHouse wrote the batch it answered 500 to (the rows sent again then
// collapse with the first copy's: same versions).
TEST_P(MisbehavingClickHouse, BatchesAnswered500AreSentAgainAndNothingIsAcknowledgedPastThem) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'snapshot' FROM generate_series(1, 100) g");
  ClickHouseRelay relay(ch_server().port);
  const auto cfg = quick(db, relay.port());
  auto run = pg2ch_cli(db, write_config_file(cfg, db.dir() / "pg2ch.toml"), {"run"}, "run");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << run.describe();

  relay.fail_inserts_with_500(true, /*written=*/GetParam());
  write_changes(db, 1000);
  ASSERT_TRUE(wait_until([&] { return relay.inserts_failed_with_500() >= 2; }, 60s)) << run.describe();
  EXPECT_TRUE(run.running()) << run.describe();
  EXPECT_NE(run.stderr_text().find("Too many parts"), std::string::npos) << "the server's error is logged";

  // Sent again until acknowledged, in the same process.
  relay.fail_inserts_with_500(false, false);
  write_changes(db, 2000);
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"), 120s)) << run.describe();
  EXPECT_TRUE(run.running()) << run.describe();

  // Killed while batches are refused: nothing of them was acknowledged, the next start reads them again.
  relay.fail_inserts_with_500(true, GetParam());
  const int failed = relay.inserts_failed_with_500();
  write_changes(db, 3000);
  ASSERT_TRUE(wait_until([&] { return relay.inserts_failed_with_500() >= failed + 2; }, 60s)) << run.describe();
  run.kill();
  relay.fail_inserts_with_500(false, false);
  auto again = pg2ch_cli(db, write_config_file(cfg, db.dir() / "pg2ch.toml"), {"run"}, "again");
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"), 120s)) << again.describe();
  // With the refused batches written, the target may be equal before this run even started: stop
  // it once it streams (a SIGTERM before it has its handlers ends it with 143).
  EXPECT_TRUE(wait_until([&] { return again.stderr_text().find("streaming from slot") != std::string::npos; }, 60s))
      << again.describe();
  EXPECT_EQ(again.stop(SIGTERM), 0) << again.describe();
}

INSTANTIATE_TEST_SUITE_P(ClickHouseAnswers, MisbehavingClickHouse, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "RowsWritten" : "NothingWritten"; });

// A ClickHouse that accepts connections and never answers: each request gives up after
// clickhouse.timeout, the batch is sent again (the service retries), nothing is acknowledged
// meanwhile, and once the server answers again every change arrives.
TEST(ClickHouseNeverAnswering, RequestsTimeOutAreRetriedAndEveryChangeArrivesOnceItAnswers) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  const int port = free_loopback_port();
  auto cfg = quick(db, port);
  cfg.clickhouse.timeout_s = 2;
  auto forwarder = std::make_unique<kafka::PortForwarder>(port, ch_server().port);
  auto run = pg2ch_cli(db, write_config_file(cfg, db.dir() / "pg2ch.toml"), {"run"}, "run");
  write_changes(db, 1);
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << run.describe();

  forwarder.reset();  // open connections close; new ones are accepted and never answered
  auto hang = std::make_unique<BlackHole>(port);
  write_changes(db, 1000);
  // Bounded: the first request gives up after clickhouse.timeout (2 s), not the default 300 s.
  ASSERT_TRUE(wait_until([&] { return run.stderr_text().find("Timeout was reached") != std::string::npos; }, 30s))
      << run.describe();
  EXPECT_TRUE(run.running()) << run.describe();
  hang.reset();
  forwarder = std::make_unique<kafka::PortForwarder>(port, ch_server().port);
  write_changes(db, 2000);
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"), 120s)) << run.describe();

  // Killed while hanging: nothing unwritten was acknowledged, the next start delivers it.
  forwarder.reset();
  hang = std::make_unique<BlackHole>(port);
  write_changes(db, 3000);
  std::this_thread::sleep_for(3s);  // a request hangs, times out, and the next one hangs
  run.kill();
  hang.reset();
  forwarder = std::make_unique<kafka::PortForwarder>(port, ch_server().port);
  auto again = pg2ch_cli(db, write_config_file(cfg, db.dir() / "pg2ch.toml"), {"run"}, "again");
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"), 120s)) << again.describe();
  // With the refused batches written, the target may be equal before this run even started: stop
  // it once it streams (a SIGTERM before it has its handlers ends it with 143).
  EXPECT_TRUE(wait_until([&] { return again.stderr_text().find("streaming from slot") != std::string::npos; }, 60s))
      << again.describe();
  EXPECT_EQ(again.stop(SIGTERM), 0) << again.describe();
}

}  // namespace
}  // namespace pg2ch::test
