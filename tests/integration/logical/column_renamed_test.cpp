// Columns renamed while streaming are renamed on the target in place (schema_evolution.h) where
// ClickHouse can (RENAME COLUMN, 20.4 and later): under a concurrent writer the table streams on and
// ends equal on every column; a SIGKILL right after the target was altered neither loses rows nor
// copies again (rows read again name the column by its old name). On 18.16 the table stops with
// the reason. A column dropped and another added that look like renames in the Relation message
// (same types, new names at the same places) are told apart by attnum and stop the table.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/child_process.h"
#include "support/evolve_crash.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

bool can_rename(TestDatabase& db) {
  const auto v = db.ch_rows("SELECT version()");
  int major = 0, minor = 0;
  std::sscanf(v.at(0).at(0).c_str(), "%d.%d", &major, &minor);
  return major > 20 || (major == 20 && minor >= 4);
}

TEST(LogicalSchemaEvolution, ColumnsRenamedWhileStreamingAreRenamedOnTheTargetUnderAWriter) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int, w text, note text)");
  db.pg_exec("CREATE TABLE swapped (id int PRIMARY KEY, a text, b text)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, g, 'w' || g, 'x' FROM generate_series(1, 1000) g");
  db.pg_exec("INSERT INTO swapped SELECT g, 'a', 'b' FROM generate_series(1, 10) g");
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  // An ALTER is followed in place only once the table streams (not while it catches up to its copy).
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s));

  std::atomic<bool> writing{true}, renamed{false};
  std::thread writer([&] {
    auto conn = db.pg_connect();
    for (int i = 1; writing; ++i) {
      const std::string n = std::to_string(i), old_id = std::to_string(i % 1000 + 1);
      conn.exec("INSERT INTO other VALUES (" + n + ", 'o')");
      if (renamed) {
        conn.exec("INSERT INTO t (id, v, w2, note) VALUES (" + std::to_string(2000 + i) + ", " + n + ", 'new" + n +
                  "', 'n')");
        conn.exec("UPDATE t SET w2 = w2 || '+', v = -v WHERE id = " + old_id);
      } else {
        try {
          conn.exec("UPDATE t SET w = w || '.', v = v + 1 WHERE id = " + old_id);
        } catch (const Error&) {
          // The ALTER came between reading `renamed` and this statement.
        }
      }
      std::this_thread::sleep_for(2ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  db.pg_exec("ALTER TABLE t RENAME COLUMN w TO w2");
  renamed = true;
  // Looks like two renames (a -> b, b -> c: same types, new names in place); attnums say otherwise.
  db.pg_exec("ALTER TABLE swapped DROP COLUMN a, ADD COLUMN c text");
  db.pg_exec("INSERT INTO swapped VALUES (11, 'b', 'c')");
  std::this_thread::sleep_for(1500ms);
  writing = false;
  writer.join();

  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id")));
  std::string swapped;
  EXPECT_TRUE(wait_until([&] { return (swapped = pg2ch_table_state(db, config, "public.swapped")).starts_with("stopped"); },
                         60s))
      << swapped;
  EXPECT_NE(swapped.find("not a rename"), std::string::npos) << swapped;
  if (can_rename(db)) {
    EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v, w2, note", "id")));
    EXPECT_EQ(pg2ch_table_state(db, config, "public.t"), "streaming ") << "the table stopped instead of evolving";
  } else {
    std::string state;
    EXPECT_TRUE(wait_until([&] { return (state = pg2ch_table_state(db, config, "public.t")).starts_with("stopped"); },
                           60s))
        << state;
    EXPECT_NE(state.find("RENAME COLUMN needs 20.4"), std::string::npos) << state;
  }
  runner.stop();
}

// As in type_widening_test.cpp: the rows of the old names and the ALTER share a transaction and
// batches wait 30 s, so the restart reads them again, naming the column by its old name.
TEST(LogicalSchemaEvolution, AKillRightAfterAColumnWasRenamedNeitherLosesRowsNorCopiesAgain) {
  auto db = make_test_database();
  if (!can_rename(db)) GTEST_SKIP() << "ClickHouse before 20.4 cannot rename a column";
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int, w text)");
  db.pg_exec("INSERT INTO t SELECT g, g, 'w' || g FROM generate_series(1, 100) g");
  auto cfg = make_test_config(db, {"public.t"});
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  cfg.batch.max_delay = cfg.batch.idle_flush = 30s;
  const auto holding = write_config_file(cfg, db.dir() / "pg2ch-holding.toml");
  auto first = pg2ch_cli(db, holding, {"run"}, "first");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v, w", "id"))) << first.describe();
  // An ALTER is followed in place only once the table streams (not while it catches up to its copy).
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << first.describe();
  db.pg_exec("BEGIN; UPDATE t SET v = -v, w = 'old name' WHERE id <= 10; ALTER TABLE t RENAME COLUMN w TO w2; "
             "INSERT INTO t VALUES (101, 7, 'new name'); COMMIT");
  const auto evolved = [&] { return first.stderr_text().find("renamed on its target") != std::string::npos; };
  ASSERT_TRUE(wait_until(evolved, 60s)) << first.describe();
  first.kill();
  ASSERT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE id = 101"), Rows{{"0"}}) << "the commit became durable";

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  db.pg_exec("UPDATE t SET w2 = w2 || '!' WHERE id % 5 = 0");
  expect_equal_without_a_copy(db, config, second, same_columns("t", "id, v, w2", "id"));
}

}  // namespace
}  // namespace pg2ch::test
