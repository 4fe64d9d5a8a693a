// logical.on_* = "ignore" (capture/logical/ignored_changes.h): the target stays as it was while
// the source's columns change, no value is written wrongly, a restart keeps it so without a copy,
// and a value the kept target cannot hold stops that table alone.
#include <gtest/gtest.h>

#include <csignal>

#include "support/background_writer.h"
#include "support/child_process.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(LogicalIgnoredChanges, IgnoredChangesLeaveTheTargetAsItWasAcrossARestartAndABadValueStopsTheTable) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int, w text, n int NOT NULL, r text)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, g, 'w' || g, g, 'r' || g FROM generate_series(1, 500) g");
  auto cfg = make_test_config(db);
  cfg.logical.on_column_added = cfg.logical.on_column_renamed = cfg.logical.on_type_widened =
      cfg.logical.on_not_null_dropped = "ignore";
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto first = pg2ch_cli(db, config, {"run"}, "first");
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << first.describe();

  BackgroundWriter writer(
      db,
      [](pg::Connection& conn, int i) {
        conn.exec("INSERT INTO other VALUES (" + std::to_string(i) + ", 'o')");
        conn.exec("UPDATE t SET w = w || '.' WHERE id = " + std::to_string(i % 500 + 1));
      },
      2ms);
  // One change at a time, each followed before the next (a Relation the catalog has moved past
  // stops the table, as it should).
  const auto step = [&](const std::string& alter, const std::string& logged) {
    db.pg_exec(alter);
    db.pg_exec("UPDATE t SET w = w || '!' WHERE id = 1");
    return wait_until([&] { return first.stderr_text().find(logged) != std::string::npos; }, 60s);
  };
  ASSERT_TRUE(step("ALTER TABLE t ADD COLUMN extra int", "column(s) extra at the source left out")) << first.describe();
  ASSERT_TRUE(step("ALTER TABLE t RENAME COLUMN r TO r2", "its target keeps the old names")) << first.describe();
  ASSERT_TRUE(step("ALTER TABLE t ALTER COLUMN v TYPE bigint", "column(s) v widened")) << first.describe();
  ASSERT_TRUE(step("ALTER TABLE t ALTER COLUMN n DROP NOT NULL", "NOT NULL of column(s) n")) << first.describe();
  db.pg_exec("INSERT INTO t SELECT g, -g, 'new', g, 'r2-' || g, g FROM generate_series(501, 600) g");
  db.pg_exec("UPDATE t SET r2 = r2 || '+', extra = 1, v = v * 1000 WHERE id % 10 = 0");
  writer.finish();

  // The target as it was: no extra, r under its old name, v Int32, n not Nullable.
  const TableQuery kept{"SELECT id, v, w, n, r2 FROM t ORDER BY id",
                        "SELECT id, v, w, n, r FROM t FINAL WHERE _deleted = 0 ORDER BY id"};
  EXPECT_TRUE(wait_equal(db, kept)) << first.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << first.describe();
  EXPECT_EQ(db.ch_rows("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 't' "
                       "AND name IN ('v', 'n', 'r', 'r2', 'extra') ORDER BY name"),
            (Rows{{"n", "Int32"}, {"r", "Nullable(String)"}, {"v", "Nullable(Int32)"}}));
  EXPECT_EQ(first.stop(SIGTERM), 0) << first.describe();

  // A restart keeps them ignored: no copy.
  auto second = pg2ch_cli(db, config, {"run"}, "second");
  db.pg_exec("UPDATE t SET r2 = 'again', v = 7 WHERE id <= 5");
  EXPECT_TRUE(wait_equal(db, kept)) << second.describe();
  EXPECT_EQ(second.stderr_text().find("copying"), std::string::npos) << "copied again: " << second.describe();
  EXPECT_EQ(second.stderr_text().find("copied"), std::string::npos) << "copied again: " << second.describe();
  EXPECT_EQ(pg2ch_table_state(db, config, "public.t"), "streaming ") << second.describe();

  // A value the kept Int32 cannot hold stops the table, never wraps; the others stream on.
  db.pg_exec("UPDATE t SET v = 5000000000 WHERE id = 2");
  db.pg_exec("INSERT INTO other VALUES (100000, 'after')");
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t").starts_with("stopped "); }, 60s))
      << second.describe();
  EXPECT_NE(pg2ch_table_state(db, config, "public.t").find("5000000000 does not fit the target's Int32"),
            std::string::npos)
      << pg2ch_table_state(db, config, "public.t");
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << second.describe();
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE id = 2 AND v != 7"), Rows{{"0"}}) << "nothing wrapped";
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

TEST(LogicalIgnoredChanges, ANullIntoANotNullKeptByIgnoreStopsTheTableWithTheReason) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, g FROM generate_series(1, 100) g");
  auto cfg = make_test_config(db);
  cfg.logical.on_not_null_dropped = "ignore";
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto run = pg2ch_cli(db, config, {"run"}, "run");
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << run.describe();
  db.pg_exec("ALTER TABLE t ALTER COLUMN n DROP NOT NULL");
  db.pg_exec("UPDATE t SET n = -n WHERE id <= 10");
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, n", "id"))) << run.describe();
  db.pg_exec("UPDATE t SET n = NULL WHERE id = 3");
  db.pg_exec("INSERT INTO other VALUES (1, 'after')");
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t").starts_with("stopped "); }, 60s))
      << run.describe();
  const auto state = pg2ch_table_state(db, config, "public.t");
  EXPECT_NE(state.find("NULL in column n of public.t, whose ClickHouse column takes no NULL"), std::string::npos)
      << state;
  EXPECT_EQ(db.ch_rows("SELECT n FROM t FINAL WHERE id = 3"), Rows{{"-3"}}) << "no default written for the NULL";
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

// `setup` and `verify` see the table as the pipeline writes it: with the changes left out. Before,
// setup refused the target ("column extra is missing") and verify compared the new column and the
// new name, reporting every row different.
TEST(LogicalIgnoredChanges, SetupAndVerifyTakeTheIgnoredChangesIntoAccount) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int, r text)");
  db.pg_exec("INSERT INTO t SELECT g, g, 'r' || g FROM generate_series(1, 100) g");
  auto cfg = make_test_config(db);
  cfg.logical.on_column_added = cfg.logical.on_column_renamed = cfg.logical.on_type_widened = "ignore";
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto run = pg2ch_cli(db, config, {"run"}, "run");
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << run.describe();
  db.pg_exec("ALTER TABLE t ADD COLUMN extra int");
  db.pg_exec("UPDATE t SET extra = id WHERE id <= 10");
  ASSERT_TRUE(wait_until([&] { return run.stderr_text().find("at the source left out") != std::string::npos; }, 60s))
      << run.describe();
  db.pg_exec("ALTER TABLE t RENAME COLUMN r TO r2");
  db.pg_exec("UPDATE t SET r2 = r2 || '!' WHERE id <= 20");
  // One change followed before the next (a Relation the catalog has moved past stops the table).
  ASSERT_TRUE(wait_until([&] { return run.stderr_text().find("keeps the old names") != std::string::npos; }, 60s))
      << run.describe();
  db.pg_exec("ALTER TABLE t ALTER COLUMN v TYPE bigint");
  db.pg_exec("UPDATE t SET v = v * 10 WHERE id <= 30");
  const TableQuery kept{"SELECT id, v, r2 FROM t ORDER BY id", "SELECT id, v, r FROM t FINAL WHERE _deleted = 0 ORDER BY id"};
  ASSERT_TRUE(wait_equal(db, kept)) << run.describe();

  auto setup = pg2ch_cli(db, config, {"setup"}, "setup");
  EXPECT_EQ(setup.wait(60s).value_or(-1), 0) << setup.describe();
  auto verify = pg2ch_cli(db, config, {"verify", "--settle-ms", "0"}, "verify");
  EXPECT_EQ(verify.wait(120s).value_or(-1), 0) << verify.describe();
  // And verify still finds a row that differs.
  db.ch_exec("INSERT INTO t (id, v, r, _version) VALUES (5, -1, 'wrong', 18446744073709551615)");
  auto differs = pg2ch_cli(db, config, {"verify", "--settle-ms", "0"}, "verify-differs");
  EXPECT_NE(differs.wait(120s).value_or(-1), 0) << differs.describe();
  EXPECT_NE(differs.stdout_text().find("5"), std::string::npos) << differs.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

}  // namespace
}  // namespace pg2ch::test
