// Several kinds of column change that reach pg2ch in one pgoutput Relation message (logical mode):
// ALTERs of different kinds in one transaction, or one ALTER with several subcommands, followed by
// a row. They are followed in place together (SchemaEvolver::follow_several), under a concurrent
// writer: the table streams on, ends equal on every column and row, and is not copied again (the
// rows untouched since keep the versions the stream gave them; a copy writes them with 0); nor by
// a kill right after the target's ALTER under the writer. A kill right before or right after it
// without a writer: evolve_crash_test.cpp (SeveralAtOnceBothPlaces).
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/background_writer.h"
#include "support/child_process.h"
#include "support/evolve_crash.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// The smallest newest version among rows 1-100 of `table`, updated before the ALTERs and never
// after: above 0 while they keep the versions the stream gave them, 0 once a copy wrote them again.
std::string lowest_version_of_rows_updated_before(TestDatabase& db, const std::string& table) {
  return db.ch_rows("SELECT min(v) FROM (SELECT id, max(_version) AS v FROM " + table +
                    " WHERE id <= 100 GROUP BY id)")
      .at(0)
      .at(0);
}

void create_table(TestDatabase& db, const std::string& table) {
  db.pg_exec("CREATE TABLE " + table +
             " (id int PRIMARY KEY, v varchar(10), n int NOT NULL, w text, amount numeric(10,2), note text)");
  db.pg_exec("INSERT INTO " + table +
             " SELECT g, 'v' || g, g, 'w' || g, g * 1.25, 'n' || g FROM generate_series(1, 1000) g");
}

// Every column after the ALTERs below (w dropped, a added).
TableQuery after_the_alters(const std::string& table) { return same_columns(table, "id, v, n, amount, note, a", "id"); }

// Rows 1-100 of each table updated, and the stream's versions of them checked.
void update_rows_before(TestDatabase& db, const std::vector<std::string>& tables, const std::string& describe) {
  for (const auto& table : tables) {
    db.pg_exec("UPDATE " + table + " SET note = note || '!' WHERE id <= 100");
    ASSERT_TRUE(wait_equal(db, same_columns(table, "id, v, n, w, amount, note", "id"))) << describe;
    ASSERT_NE(lowest_version_of_rows_updated_before(db, table), "0") << table;
  }
}

// Every 2 ms: a row into other, and in each table a row inserted and one of rows 101-900 updated
// by statements valid before and after the ALTERs; once `altered`, also rows of the new shape
// (NULL in n, longer v, more digits in amount, a set).
class Writer {
 public:
  Writer(TestDatabase& db, std::vector<std::string> tables)
      : writer_(db, [this, tables = std::move(tables)](pg::Connection& conn, int i) {
          const std::string n = std::to_string(i);
          conn.exec("INSERT INTO other VALUES (" + n + ", 'o')");
          for (const auto& table : tables) {
            conn.exec("INSERT INTO " + table + " (id, v, n, amount, note) VALUES (" + std::to_string(2000 + i) +
                      ", 'x" + n + "', " + n + ", " + n + ".5, 'new')");
            conn.exec("UPDATE " + table + " SET note = note || '.', amount = amount + 1 WHERE id = " +
                      std::to_string(101 + i % 800));
            if (altered) {
              conn.exec("UPDATE " + table + " SET n = NULL, v = repeat('y', 15), amount = 1234567890.25, a = " + n +
                        " WHERE id = " + std::to_string(101 + (i * 7) % 800));
            }
          }
        }, 2ms) {}
  std::atomic<bool> altered{false};
  void finish() { writer_.finish(); }

 private:
  BackgroundWriter writer_;
};

// Several ALTERs in one transaction, after rows of the old shape in it, and a row of the new shape.
void alter_in_one_transaction(TestDatabase& db, const std::string& t) {
  db.pg_exec("BEGIN; UPDATE " + t + " SET note = 'old shape' WHERE id BETWEEN 101 AND 110; ALTER TABLE " + t +
             " ADD COLUMN a int DEFAULT 7; ALTER TABLE " + t + " ALTER COLUMN v TYPE varchar(20); ALTER TABLE " + t +
             " ALTER COLUMN amount TYPE numeric(12,2); ALTER TABLE " + t + " DROP COLUMN w; ALTER TABLE " + t +
             " ALTER COLUMN n DROP NOT NULL; INSERT INTO " + t +
             " (id, v, n, amount, note, a) VALUES (100001, repeat('z', 15), NULL, 1234567890.5, 'new', 8); COMMIT");
}

TEST(LogicalSeveralChanges, SeveralKindsInOneRelationAreFollowedInPlaceUnderAWriter) {
  auto db = make_test_database();
  // t: several ALTERs in one transaction; u: one ALTER with several subcommands.
  create_table(db, "t");
  create_table(db, "u");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  for (const char* table : {"public.t", "public.u"}) {
    ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, table) == "streaming "; }, 60s)) << table;
  }
  update_rows_before(db, {"t", "u"}, runner.describe());

  Writer writer(db, {"t", "u"});
  std::this_thread::sleep_for(300ms);
  alter_in_one_transaction(db, "t");
  db.pg_exec("ALTER TABLE u ADD COLUMN a int DEFAULT 7, ALTER COLUMN v TYPE varchar(20), "
             "ALTER COLUMN amount TYPE numeric(12,2), DROP COLUMN w, ALTER COLUMN n DROP NOT NULL");
  db.pg_exec(
      "INSERT INTO u (id, v, n, amount, note, a) VALUES (100001, repeat('z', 15), NULL, 1234567890.5, 'new', 8)");
  writer.altered = true;
  std::this_thread::sleep_for(1500ms);
  writer.finish();

  for (const char* table : {"t", "u"}) {
    EXPECT_TRUE(wait_equal(db, after_the_alters(table))) << table << runner.describe();
    EXPECT_EQ(pg2ch_table_state(db, config, std::string("public.") + table), "streaming ")
        << table << ": stopped instead of evolving";
    EXPECT_NE(lowest_version_of_rows_updated_before(db, table), "0") << table << " was copied again";
  }
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id")));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// pg2ch dies right after the target's ALTER (PG2CH_CRASH_AT, as a SIGKILL there would) while a
// writer goes on through the crash and the next start: the slot gives the transaction again, its
// rows of the old shape first (applied by their older Relation), and t ends equal, never copied.
TEST(LogicalSeveralChanges, AKillRightAfterTheTargetsAlterUnderAWriterNeitherLosesRowsNorCopiesAgain) {
  auto db = make_test_database();
  create_table(db, "t");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto first = ChildProcess::spawn_pg2ch({.args = {"--config", config.string(), "run"},
                                          .env = {{"PG2CH_CRASH_AT", "evolve_after_target_alter"}},
                                          .dir = db.dir(),
                                          .log_prefix = "first"});
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << first.describe();
  update_rows_before(db, {"t"}, first.describe());

  Writer writer(db, {"t"});
  std::this_thread::sleep_for(300ms);
  alter_in_one_transaction(db, "t");
  writer.altered = true;
  ASSERT_EQ(first.wait(60s), std::optional<int>(137)) << "did not die after the ALTER: " << first.describe();
  EXPECT_EQ(db.ch_rows("SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 't' AND "
                       "name = 'a'"),
            Rows{{"1"}})
      << "the target was not altered before the kill";

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  std::this_thread::sleep_for(1500ms);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << second.describe();
  EXPECT_NE(lowest_version_of_rows_updated_before(db, "t"), "0") << "t was copied again";
  expect_equal_without_a_copy(db, config, second, after_the_alters("t"));
}

// Several kinds that cannot all be followed in place: a name dropped and added again (with a type
// widened) has the table copied again while the others stream, ending equal; a kind set to "stop"
// (here a NOT NULL dropped, which only the catalog shows, with a column added) stops that table.
TEST(LogicalSeveralChanges, ANameTakenTwiceCopiesTheTableAgainWhileTheOthersStreamAndAStopSettingStopsIt) {
  auto db = make_test_database();
  create_table(db, "twice");
  create_table(db, "stopping");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  auto cfg = make_test_config(db);
  cfg.logical.on_not_null_dropped = "stop";
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  for (const char* table : {"public.twice", "public.stopping"}) {
    ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, table) == "streaming "; }, 60s)) << table;
  }
  update_rows_before(db, {"twice"}, runner.describe());

  Writer writer(db, {"twice", "stopping"});
  std::this_thread::sleep_for(300ms);
  db.pg_exec("BEGIN; UPDATE twice SET note = 'old shape' WHERE id BETWEEN 101 AND 110; "
             "ALTER TABLE twice DROP COLUMN w; ALTER TABLE twice ADD COLUMN w text DEFAULT 'again'; "
             "ALTER TABLE twice ALTER COLUMN v TYPE varchar(20); "
             "INSERT INTO twice (id, v, n, amount, note, w) VALUES (100001, repeat('z', 15), 1, 1.5, 'new', 'w'); "
             "COMMIT");
  db.pg_exec("ALTER TABLE stopping ADD COLUMN a int, ALTER COLUMN n DROP NOT NULL");
  db.pg_exec("INSERT INTO stopping (id, v, n, amount, note, a) VALUES (100001, 'z', NULL, 1.5, 'new', 8)");
  std::this_thread::sleep_for(1500ms);
  writer.finish();

  EXPECT_TRUE(wait_equal(db, same_columns("twice", "id, v, n, amount, note, w", "id"))) << runner.describe();
  EXPECT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.twice") == "streaming "; }, 60s))
      << pg2ch_table_state(db, config, "public.twice");
  EXPECT_EQ(lowest_version_of_rows_updated_before(db, "twice"), "0") << "twice was not copied again";
  std::string stopping;
  EXPECT_TRUE(
      wait_until([&] { return (stopping = pg2ch_table_state(db, config, "public.stopping")).starts_with("stopped"); },
                 60s))
      << stopping;
  EXPECT_NE(stopping.find("on_not_null_dropped is \"stop\""), std::string::npos) << stopping;
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id")));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
