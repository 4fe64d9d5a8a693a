// Columns dropped while streaming are followed in place (schema_evolution.h): the target keeps the
// column with the values it holds, NULL in every row written after the drop, and the table streams
// on under a concurrent writer, its remaining columns equal row by row (pgoutput sends only live
// columns: nothing shifts into the wrong column). A SIGKILL right after the target was altered
// neither loses rows nor copies again: rows of the older shape read again carry the dropped
// column, whose values are left out.
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

TEST(LogicalSchemaEvolution, ColumnsDroppedWhileStreamingAreKeptOnTheTargetAndNullFromThenOn) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int, w text NOT NULL, u int, note text)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, g, 'w' || g, g, 'x' FROM generate_series(1, 1000) g");
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  // An ALTER is followed in place only once the table streams (not while it catches up to its copy).
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s));

  std::atomic<bool> writing{true}, dropped{false};
  std::thread writer([&] {
    auto conn = db.pg_connect();
    for (int i = 1; writing; ++i) {
      const std::string n = std::to_string(i), old_id = std::to_string(i % 500 + 1);
      conn.exec("INSERT INTO other VALUES (" + n + ", 'o')");
      if (dropped) {
        conn.exec("INSERT INTO t VALUES (" + std::to_string(2000 + i) + ", " + n + ", 'new" + n + "')");
        conn.exec("UPDATE t SET v = -v, note = note || '+' WHERE id = " + old_id);
      } else {
        try {
          conn.exec("UPDATE t SET v = v + 1, w = w || '.', u = u + 1, note = note || '.' WHERE id = " + old_id);
        } catch (const Error&) {
          // The ALTER came between reading `dropped` and this statement: the columns are gone.
        }
      }
      std::this_thread::sleep_for(2ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  db.pg_exec("ALTER TABLE t DROP COLUMN w, DROP COLUMN u");
  dropped = true;
  std::this_thread::sleep_for(1500ms);
  writing = false;
  writer.join();

  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v, note", "id")));
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id")));
  EXPECT_EQ(pg2ch_table_state(db, config, "public.t"), "streaming ") << "the table stopped instead of evolving";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE _deleted = 0 AND (w IS NOT NULL OR u IS NOT NULL) AND "
                       "id > 2000"),
            Rows{{"0"}})
      << "rows written after the drop hold NULL there";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE _deleted = 0 AND note LIKE '%+' AND w IS NOT NULL"),
            Rows{{"0"}})
      << "so do rows updated after the drop";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE _deleted = 0 AND w LIKE 'w%' AND u > 0 AND id > 500 AND "
                       "id <= 1000"),
            Rows{{"500"}})
      << "rows untouched since keep what the columns held";
  runner.stop();
}

// The rows of the old shape and the ALTER share a transaction, and batches wait 30 s (as in
// type_widening_test.cpp): the restart reads all of it again, the rows with the dropped column first.
TEST(LogicalSchemaEvolution, AKillRightAfterAColumnWasDroppedNeitherLosesRowsNorCopiesAgain) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int, w text, note text)");
  db.pg_exec("INSERT INTO t SELECT g, g, 'w' || g, 'x' FROM generate_series(1, 100) g");
  auto cfg = make_test_config(db, {"public.t"});
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  cfg.batch.max_delay = cfg.batch.idle_flush = 30s;
  const auto holding = write_config_file(cfg, db.dir() / "pg2ch-holding.toml");
  auto first = pg2ch_cli(db, holding, {"run"}, "first");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v, w, note", "id"))) << first.describe();
  // An ALTER is followed in place only once the table streams (not while it catches up to its copy).
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << first.describe();
  db.pg_exec("BEGIN; UPDATE t SET v = -v, w = 'old', note = 'old' WHERE id <= 10; ALTER TABLE t DROP COLUMN w; "
             "INSERT INTO t VALUES (101, 7, 'new'); COMMIT");
  // The evolver's last line, after the state recorded the drop (the target's "kept column" comes before).
  const auto evolved = [&] { return first.stderr_text().find("kept with their values") != std::string::npos; };
  ASSERT_TRUE(wait_until(evolved, 60s)) << first.describe();
  first.kill();
  ASSERT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE id = 101"), Rows{{"0"}}) << "the commit became durable";

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  db.pg_exec("UPDATE t SET note = 'after' WHERE id % 5 = 0");
  expect_equal_without_a_copy(db, config, second, same_columns("t", "id, v, note", "id"));
}

// A column dropped and later added again under its name: the target's kept column holds the old
// values, and rows read again could not tell the two apart, so that table is copied again while
// the other streams (before: it stopped until a restart).
TEST(LogicalSchemaEvolution, AColumnDroppedThenAddedAgainUnderItsNameCopiesThatTableWhileTheOtherStreams) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int, w text)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, g, 'w' || g FROM generate_series(1, 1000) g");
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s));
  db.pg_exec("ALTER TABLE t DROP COLUMN w");
  db.pg_exec("UPDATE t SET v = -v WHERE id <= 10");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
  db.pg_exec("ALTER TABLE t ADD COLUMN w text");
  db.pg_exec("UPDATE t SET w = 'again' || id WHERE id % 3 = 0");
  db.pg_exec("INSERT INTO other SELECT g, 'o' FROM generate_series(1, 100) g");
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v, w", "id"), 120s));
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id")));
  EXPECT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << pg2ch_table_state(db, config, "public.t");
  db.pg_exec("UPDATE t SET w = 'after' WHERE id = 1");
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v, w", "id")));
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
