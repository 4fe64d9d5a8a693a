// Columns added while streaming are added to the target in place (capture/logical/schema_evolution.h):
// the table streams on, under a concurrent writer, and ends equal on every column, the other
// tables never stopping. A SIGKILL right after the target was altered is safe: the restart reads
// rows of the older shape again (a Relation without the column, before the recorded position) and
// applies them with the new columns NULL, without copying the table again. Columns added with a
// default: column_default_test.cpp.
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

TEST(LogicalSchemaEvolution, ColumnsAddedWhileStreamingAreAddedInPlaceUnderAWriter) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g");
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  // An ALTER is followed in place only once the table streams (not while it catches up to its copy).
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s));

  std::atomic<bool> writing{true}, added{false};
  std::thread writer([&] {
    auto conn = db.pg_connect();
    for (int i = 1; writing; ++i) {
      conn.exec("INSERT INTO other VALUES (" + std::to_string(i) + ", 'o')");
      if (added) {
        conn.exec("INSERT INTO t (id, v, extra, note) VALUES (" + std::to_string(1000 + i) + ", 'new', " +
                  std::to_string(i) + ", 'n" + std::to_string(i) + "')");
        conn.exec("UPDATE t SET extra = -id WHERE id = " + std::to_string(i % 1000 + 1));
      } else {
        conn.exec("UPDATE t SET v = v || '.' WHERE id = " + std::to_string(i % 1000 + 1));
      }
      std::this_thread::sleep_for(2ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  db.pg_exec("ALTER TABLE t ADD COLUMN extra int, ADD COLUMN note text");
  added = true;
  std::this_thread::sleep_for(1500ms);
  writing = false;
  writer.join();

  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v, extra, note", "id")));
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id")));
  EXPECT_EQ(pg2ch_table_state(db, config, "public.t"), "streaming ") << "the table stopped instead of evolving";
  runner.stop();
}

// The rows of the old shape and the ALTER share a transaction, and batches wait 30 s: when the
// kill comes, the target is altered and the state records it, but the transaction's commit is
// not durable, so the slot gives all of it again, the rows of the old shape first.
TEST(LogicalSchemaEvolution, AKillRightAfterTheTargetWasAlteredNeitherLosesRowsNorCopiesAgain) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
  auto cfg = make_test_config(db, {"public.t"});
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  cfg.batch.max_delay = cfg.batch.idle_flush = 30s;
  const auto holding = write_config_file(cfg, db.dir() / "pg2ch-holding.toml");
  auto first = pg2ch_cli(db, holding, {"run"}, "first");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << first.describe();
  // An ALTER is followed in place only once the table streams (not while it catches up to its copy).
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << first.describe();
  db.pg_exec("BEGIN; UPDATE t SET v = 'old shape' WHERE id <= 10; ALTER TABLE t ADD COLUMN extra int; "
             "INSERT INTO t VALUES (101, 'new shape', 7); COMMIT");
  ASSERT_TRUE(wait_until([&] { return first.stderr_text().find("added to its target in place") != std::string::npos; },
                         60s))
      << first.describe();
  first.kill();
  ASSERT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE id = 101"), Rows{{"0"}}) << "the commit became durable";

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  db.pg_exec("UPDATE t SET extra = id WHERE id % 5 = 0");
  expect_equal_without_a_copy(db, config, second, same_columns("t", "id, v, extra", "id"));
}

}  // namespace
}  // namespace pg2ch::test
