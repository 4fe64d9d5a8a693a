// The pg2ch binary's setup → run → status → teardown cycle as an operator uses it.
#include <gtest/gtest.h>

#include "support/table_compare.h"
#include "support/child_process.h"
#include "support/pg2ch_cli.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(LogicalCli, SetupRunStatusTeardown) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text, value double precision)");
  db.pg_exec("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series(1, 300) g");
  const auto config = write_config_file(make_test_config(db), db.dir() / "pg2ch.toml");

  auto setup = pg2ch_cli(db, config, {"setup"}, "setup");
  ASSERT_EQ(setup.wait(60s), 0) << setup.describe();
  EXPECT_NE(setup.stdout_text().find("source_table__current"), std::string::npos) << setup.describe();
  EXPECT_EQ(db.ch_rows("EXISTS TABLE source_table"), (Rows{{"1"}}));

  auto run = pg2ch_cli(db, config, {"run"}, "run");
  ASSERT_TRUE(wait_equal(db, same_columns("source_table", "id, name, value", "id"))) << run.describe();
  db.pg_exec("DELETE FROM source_table WHERE id > 100");
  ASSERT_TRUE(wait_equal(db, same_columns("source_table", "id, name, value", "id"))) << run.describe();

  auto status = pg2ch_cli(db, config, {"status"}, "status");
  ASSERT_EQ(status.wait(60s), 0) << status.describe();
  const std::string out = status.stdout_text();
  EXPECT_NE(out.find("streaming"), std::string::npos) << out;
  EXPECT_NE(out.find(db.name() + " active"), std::string::npos) << out;
  EXPECT_NE(out.find("public.source_table"), std::string::npos) << out;

  // The same for scripts: one JSON object.
  const auto d = pg2ch_status_json(db, config, "status-json");
  EXPECT_STREQ(d["state"].GetString(), "streaming");
  EXPECT_TRUE(d["healthy"].GetBool());
  EXPECT_EQ(d["details"]["slot"].GetString(), db.name() + " active");
  EXPECT_TRUE(d["details"]["lag_bytes"].IsInt64());
  ASSERT_EQ(d["tables"].Size(), 1u);
  EXPECT_STREQ(d["tables"][0]["table"].GetString(), "public.source_table");
  EXPECT_EQ(d["tables"][0]["source_rows"].GetInt64(), 100);
  EXPECT_EQ(d["tables"][0]["target_rows"].GetInt64(), 100);
  EXPECT_TRUE(d["attention"].Empty());

  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
  auto teardown = pg2ch_cli(db, config, {"teardown", "--drop-target"}, "teardown");
  ASSERT_EQ(teardown.wait(60s), 0) << teardown.describe();
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + db.name() + "'"), (Rows{{"0"}}));
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg_publication WHERE pubname = '" + db.name() + "'"), (Rows{{"0"}}));
  EXPECT_EQ(db.ch_rows("EXISTS TABLE source_table"), (Rows{{"0"}}));
}

// Setup on a fresh ClickHouse creates the configured database (the operator should not have to).
TEST(LogicalCli, SetupCreatesTheClickHouseDatabase) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text)");
  auto cfg = make_test_config(db);
  cfg.clickhouse.database = db.name() + "_fresh";
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  db.ch_exec("DROP DATABASE IF EXISTS " + cfg.clickhouse.database);

  auto setup = pg2ch_cli(db, config, {"setup"}, "setup");
  ASSERT_EQ(setup.wait(60s), 0) << setup.describe();
  EXPECT_EQ(db.ch_rows("EXISTS TABLE " + cfg.clickhouse.database + ".source_table"), (Rows{{"1"}}));
  db.ch_exec("DROP DATABASE " + cfg.clickhouse.database);
}


// `run --until-caught-up` (cron jobs, catch-up runs) writes its last batches as soon as everything
// up to its stop position has arrived, not after the batch delay or the table's insert interval.
TEST(LogicalCli, UntilCaughtUpDoesNotWaitOutTheBatchDelays) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text)");
  auto cfg = make_test_config(db);
  cfg.batch.max_delay = std::chrono::milliseconds(600000);
  cfg.batch.idle_flush = std::chrono::milliseconds(600000);
  cfg.batch.table_insert_interval = std::chrono::milliseconds(600000);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto first = pg2ch_cli(db, config, {"run", "--until-caught-up"}, "first");
  ASSERT_EQ(first.wait(120s), 0) << first.describe();

  // Committed durably: the test server commits asynchronously, and the run's stop position is
  // the WAL written when it starts, which an asynchronous commit may not have reached yet.
  auto writer = db.pg_connect();
  writer.exec("SET synchronous_commit = on");
  writer.exec("INSERT INTO source_table SELECT g, 'n' || g FROM generate_series(1, 500) g");
  writer.exec("UPDATE source_table SET name = 'u' WHERE id % 3 = 0");
  // Waiting out the ten-minute delays would end far later than this.
  auto second = pg2ch_cli(db, config, {"run", "--until-caught-up"}, "second");
  ASSERT_EQ(second.wait(120s), 0) << second.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("source_table", "id, name", "id"), 1s)) << second.describe();
}

}  // namespace
}  // namespace pg2ch::test
