// Streaming changes through the logical capture into ClickHouse: every kind of change must leave
// the ClickHouse current state (FINAL, _deleted = 0) equal to the source, row by row.
#include <gtest/gtest.h>

#include "support/held_commits.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(LogicalStream, InsertsUpdatesDeletesAndTruncate) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  db.pg_exec("INSERT INTO source_table SELECT g, 'name ' || g, g * 0.5 FROM generate_series(1, 1000) g");
  PipelineRunner runner(make_test_config(db));
  const auto q = same_columns("source_table", "id, name, value", "id");
  ASSERT_TRUE(wait_equal(db, q)) << "snapshot";

  db.pg_exec("INSERT INTO source_table SELECT g, 'new ' || g, NULL FROM generate_series(1001, 1500) g");
  db.pg_exec("UPDATE source_table SET value = value + 1, name = name || '!' WHERE id % 3 = 0");
  db.pg_exec("DELETE FROM source_table WHERE id % 7 = 0");
  db.pg_exec("BEGIN; UPDATE source_table SET value = 1 WHERE id = 1; UPDATE source_table SET value = 2 WHERE id = 1; "
             "DELETE FROM source_table WHERE id = 2; INSERT INTO source_table VALUES (2, 'reborn', 3); COMMIT");
  ASSERT_TRUE(wait_equal(db, q)) << "changes";
  EXPECT_EQ(db.ch_rows("SELECT value FROM source_table FINAL WHERE id = 1"), (Rows{{"2"}}));

  db.pg_exec("TRUNCATE source_table");
  db.pg_exec("INSERT INTO source_table VALUES (5, 'after truncate', 5)");
  ASSERT_TRUE(wait_equal(db, q)) << "truncate";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM source_table"), (Rows{{"1"}})) << "truncate empties the target";
  runner.stop();
}

TEST(LogicalStream, CompositeKeyUpdatesThatMoveTheKey) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE pairs (tenant int, id bigint, label text, PRIMARY KEY (tenant, id))");
  db.pg_exec("INSERT INTO pairs SELECT g % 5, g, 'l' || g FROM generate_series(1, 200) g");
  PipelineRunner runner(make_test_config(db));
  const auto q = same_columns("pairs", "tenant, id, label", "tenant, id");
  ASSERT_TRUE(wait_equal(db, q));

  db.pg_exec("UPDATE pairs SET tenant = tenant + 10 WHERE id % 4 = 0");       // key moves
  db.pg_exec("UPDATE pairs SET id = id + 1000, label = 'moved' WHERE id % 5 = 1");
  db.pg_exec("DELETE FROM pairs WHERE id % 6 = 0");
  db.pg_exec("BEGIN; UPDATE pairs SET id = 5000 WHERE tenant = 3 AND id = 3; "
             "INSERT INTO pairs VALUES (3, 3, 'reused key'); COMMIT");                  // old key reused
  ASSERT_TRUE(wait_equal(db, q));
  runner.stop();
}

TEST(LogicalStream, UnchangedToastValuesAreKept) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE docs (id int PRIMARY KEY, body text, counter int)");
  db.pg_exec("ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL");  // force out-of-line TOAST
  db.pg_exec("INSERT INTO docs SELECT g, repeat(md5(g::text), 400), 0 FROM generate_series(1, 20) g");
  PipelineRunner runner(make_test_config(db));
  const TableQuery qq{"SELECT id, md5(body), length(body), counter FROM docs ORDER BY id",
                      "SELECT id, lower(hex(MD5(body))), length(body), counter FROM docs FINAL WHERE _deleted = 0 "
                      "ORDER BY id"};
  ASSERT_TRUE(wait_equal(db, qq)) << "snapshot";

  // Only `counter` changes: pgoutput sends `body` as "unchanged TOAST", without its value.
  db.pg_exec("UPDATE docs SET counter = counter + 1");
  db.pg_exec("UPDATE docs SET counter = counter + 1 WHERE id <= 10");
  db.pg_exec("UPDATE docs SET body = 'short now' WHERE id = 3");
  db.pg_exec("BEGIN; UPDATE docs SET counter = 100 WHERE id = 4; DELETE FROM docs WHERE id = 4; COMMIT");
  ASSERT_TRUE(wait_equal(db, qq)) << "after updates that leave TOAST values unchanged";
  runner.stop();
}

// Issue 13 item 0, unchanged TOAST: a batch may be flushed, and its unchanged TOAST values
// fetched, as soon as its commit is decoded, which can be before the commit is visible
// (HeldCommits). The rows read then were the state BEFORE the transaction: a row it inserted and
// then updated was missing (and written as a delete at the update's version), a TOAST value it
// set before an update that left it unchanged was the old one; both stayed final.
TEST(LogicalStream, UnchangedToastFetchWaitsForItsTransactionToBeVisible) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE docs (id int PRIMARY KEY, body text, counter int)");
  db.pg_exec("ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL");
  db.pg_exec("INSERT INTO docs SELECT g, repeat(md5(g::text), 400), 0 FROM generate_series(1, 2) g");
  PipelineRunner runner(make_test_config(db));
  const TableQuery qq{"SELECT id, md5(body), length(body), counter FROM docs ORDER BY id",
                      "SELECT id, lower(hex(MD5(body))), length(body), counter FROM docs FINAL WHERE _deleted = 0 "
                      "ORDER BY id"};
  ASSERT_TRUE(wait_equal(db, qq)) << "snapshot";
  const auto target = [&] { return db.ch_rows("SELECT count(), max(_version) FROM docs"); };
  const Rows before = target();

  HeldCommits held(db);
  held.hold("BEGIN; INSERT INTO docs VALUES (3, repeat(md5('3'), 400), 0); UPDATE docs SET counter = 1 WHERE id = 3; "
            "UPDATE docs SET body = repeat(md5('new'), 400) WHERE id = 1; UPDATE docs SET counter = 5 WHERE id = 1; "
            "COMMIT");
  const std::string commit_end = db.pg_rows("SELECT pg_current_wal_lsn()")[0][0];
  // The walsender sent the whole transaction (pg2ch has it) while the commit is held.
  ASSERT_TRUE(wait_until(
      [&] {
        return db.pg_rows("SELECT count(*) FROM pg_stat_replication WHERE sent_lsn >= '" + commit_end + "'") ==
               Rows{{"1"}};
      },
      30s));
  EXPECT_FALSE(wait_until([&] { return target() != before; }, 3s))
      << "pg2ch wrote rows filled from a snapshot that does not show their transaction yet";
  held.release();
  EXPECT_TRUE(wait_equal(db, qq, 30s)) << "after the commit became visible";
  runner.stop();
}

TEST(LogicalStream, ReplicaIdentityFullAndUniqueIndexIdentity) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE full_id (id int PRIMARY KEY, payload text)");
  db.pg_exec("ALTER TABLE full_id REPLICA IDENTITY FULL");
  db.pg_exec("CREATE TABLE by_index (code text NOT NULL, n int)");
  db.pg_exec("CREATE UNIQUE INDEX by_index_code ON by_index (code)");
  db.pg_exec("ALTER TABLE by_index REPLICA IDENTITY USING INDEX by_index_code");
  db.pg_exec("INSERT INTO full_id SELECT g, repeat('x', g) FROM generate_series(1, 50) g");
  db.pg_exec("INSERT INTO by_index SELECT 'c' || g, g FROM generate_series(1, 50) g");
  PipelineRunner runner(make_test_config(db));
  const auto q1 = same_columns("full_id", "id, payload", "id");
  const auto q2 = same_columns("by_index", "code, n", "code");
  ASSERT_TRUE(wait_equal(db, q1));
  ASSERT_TRUE(wait_equal(db, q2));
  db.pg_exec("UPDATE full_id SET payload = 'changed' WHERE id % 2 = 0");
  db.pg_exec("DELETE FROM full_id WHERE id % 5 = 0");
  db.pg_exec("UPDATE by_index SET code = code || '_renamed' WHERE n % 3 = 0");
  db.pg_exec("DELETE FROM by_index WHERE n % 4 = 0");
  ASSERT_TRUE(wait_equal(db, q1));
  ASSERT_TRUE(wait_equal(db, q2));
  runner.stop();
}

TEST(LogicalStream, ColumnIncludeExcludeAndTargetName) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE people (id int PRIMARY KEY, name text, secret text, age int)");
  db.pg_exec("INSERT INTO people VALUES (1, 'ann', 's1', 30), (2, 'bob', 's2', 40)");
  auto cfg = make_test_config(db, {});
  cfg.tables = {config::TableSelector{"public.people", "people_ch", {}, {"secret"}, {}, {}, {}}};
  PipelineRunner runner(cfg);
  const TableQuery q{"SELECT id, name, age FROM people ORDER BY id",
                     "SELECT id, name, age FROM people_ch FINAL WHERE _deleted = 0 ORDER BY id"};
  ASSERT_TRUE(wait_equal(db, q));
  db.pg_exec("UPDATE people SET secret = 'changed', age = 41 WHERE id = 2");
  ASSERT_TRUE(wait_equal(db, q));
  EXPECT_EQ(db.ch_rows("SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'people_ch' "
                       "AND name = 'secret'"),
            (Rows{{"0"}}));
  EXPECT_EQ(db.ch_rows("SELECT id, name, age FROM people_ch__current ORDER BY id"), db.pg_rows(q.pg_sql))
      << "the __current view shows the source state";
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
