// The error policy of `pg2ch run` as a process: transient trouble is retried in-process (the
// service stays up and resumes), operator errors exit with their class's code, and a stop during
// a retry's backoff is a clean stop.
#include <gtest/gtest.h>

#include "kafka/port_forwarder.h"
#include "support/fixture.h"
#include "support/free_port.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

config::Config quick_retries(const TestDatabase& db) {
  auto cfg = make_test_config(db, {"public.t"});
  cfg.service.retry_initial = 100ms;
  cfg.service.retry_max = 400ms;
  return cfg;
}

// `pg2ch run` with `cfg` written to <tag>.toml, its output in <tag>.*.log.
ChildProcess start_run(const TestDatabase& db, const config::Config& cfg, const std::string& tag) {
  return pg2ch_cli(db, write_config_file(cfg, db.dir() / (tag + ".toml")), {"run"}, tag);
}

bool says(ChildProcess& p, const std::string& text) { return p.stderr_text().find(text) != std::string::npos; }

// The service's own retry line ("connection error, retrying in 0.3 s (retry 1, 1 in all): ..."),
// not the sink's retries of one insert.
bool service_retried(ChildProcess& p) { return says(p, "(retry 1, "); }

TEST(RunPolicy, ClickHouseAwayAtStartIsRetriedThenTheRunResumes) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'before' FROM generate_series(1, 100) g");
  auto setup_cfg = quick_retries(db);
  auto setup = pg2ch_cli(db, write_config_file(setup_cfg, db.dir() / "setup.toml"), {"setup"}, "setup");
  ASSERT_EQ(setup.wait(60s), 0) << setup.describe();

  // The pipeline's ClickHouse is a port that answers only once the forwarder below exists.
  auto cfg = quick_retries(db);
  const int port = free_loopback_port();
  cfg.clickhouse.port = port;
  auto run = start_run(db, cfg, "run");
  ASSERT_TRUE(wait_until([&] { return service_retried(run); }, 60s)) << run.describe();
  ASSERT_TRUE(wait_until([&] { return run.stderr_text().find("retry 3,") != std::string::npos; }, 60s))
      << "it keeps retrying: " << run.describe();
  ASSERT_TRUE(run.running()) << "transient trouble does not end the process: " << run.describe();

  kafka::PortForwarder clickhouse_back(port, ch_server().port);
  db.pg_exec("INSERT INTO t SELECT g, 'after' FROM generate_series(101, 200) g");
  db.pg_exec("UPDATE t SET v = 'changed' WHERE id % 10 = 0");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

// ClickHouse goes away mid-stream for longer than the sink's own insert retries: the run fails
// with a transient error, the service restarts it in-process (the replication connection is
// closed and the slot taken again) and everything written meanwhile arrives once it is back.
TEST(RunPolicy, ClickHouseLostMidStreamBeyondTheSinkRetriesThenBack) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'snapshot' FROM generate_series(1, 100) g");
  auto cfg = quick_retries(db);
  const int port = free_loopback_port();
  cfg.clickhouse.port = port;
  cfg.batch.max_delay = 100ms;
  auto clickhouse = std::make_unique<kafka::PortForwarder>(port, ch_server().port);
  auto run = start_run(db, cfg, "run");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << run.describe();

  clickhouse.reset();  // every connection to ClickHouse closed, new ones refused
  db.pg_exec("INSERT INTO t SELECT g, 'while away' FROM generate_series(101, 300) g");
  db.pg_exec("UPDATE t SET v = 'updated while away' WHERE id % 7 = 0");
  db.pg_exec("DELETE FROM t WHERE id % 11 = 0");
  ASSERT_TRUE(wait_until([&] { return service_retried(run); }, 120s)) << run.describe();
  ASSERT_TRUE(run.running()) << run.describe();

  clickhouse = std::make_unique<kafka::PortForwarder>(port, ch_server().port);
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"), 120s)) << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

TEST(RunPolicy, AStopWhileWaitingToRetryExitsZero) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto cfg = quick_retries(db);
  cfg.service.retry_initial = 30s;  // the stop lands in a backoff of at least 15 s
  cfg.service.retry_max = 30s;
  cfg.clickhouse.port = free_loopback_port();
  auto run = start_run(db, cfg, "run");
  ASSERT_TRUE(wait_until([&] { return service_retried(run); }, 60s)) << run.describe();
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(run.stop(SIGTERM, 20s), 0) << run.describe();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s) << "the backoff does not delay a stop";
}

TEST(RunPolicy, OperatorErrorsExitWithTheirClassCode) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, price numeric(10,2))");
  db.pg_exec("INSERT INTO t VALUES (1, 1.5)");

  // Data (exit 6, not retried) has no case left here: a value one table's target cannot hold
  // stops only that table in every capture mode (LogicalTableStates, WatermarkTableStates,
  // OutboxTableStates); an undecodable Kafka message still stops the consumer with it
  // (KafkaRoute.UndecodableMessageGoesToTheDeadLetterTopicOrStopsTheConsumer).

  // Authentication: a wrong password is not retried either.
  auto wrong = quick_retries(db);
  wrong.postgres.user = pg_server().limited_user;
  wrong.postgres.password = "Wr0ngSecret!";
  auto denied = start_run(db, wrong, "denied");
  EXPECT_EQ(denied.wait(60s), 4) << denied.describe();
  EXPECT_FALSE(says(denied, "Wr0ngSecret!")) << denied.describe();

  // Source schema: a table without a primary key.
  db.pg_exec("CREATE TABLE heap_only (a int)");
  auto schema = quick_retries(db);
  schema.tables = make_test_config(db, {"public.heap_only"}).tables;
  auto refused = start_run(db, schema, "schema");
  EXPECT_EQ(refused.wait(60s), 5) << refused.describe();
}

}  // namespace
}  // namespace pg2ch::test
