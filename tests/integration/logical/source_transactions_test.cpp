// What the source's transactions can do to a pipeline, each ending in row equality: a rolled-back
// transaction of two million rows leaves nothing behind and holds nothing up; a prepared
// transaction arrives at COMMIT PREPARED and never at ROLLBACK PREPARED (while it is prepared the
// stream goes on past it); a 20 MB value arrives whole.
#include <gtest/gtest.h>

#include "support/fixture.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(SourceTransactions, ARolledBackTwoMillionRowTransactionLeavesNothing) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  PipelineRunner runner(make_test_config(db, {"public.t"}));
  runner.wait_ready();
  auto big = db.pg_connect();
  big.exec("BEGIN");
  big.exec("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 2000000) g");
  db.pg_exec("INSERT INTO t VALUES (-1, 'committed meanwhile')");
  big.exec("ROLLBACK");
  db.pg_exec("INSERT INTO t VALUES (-2, 'after')");
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"), 120s));
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t"), Rows{{"2"}}) << "rows of the rolled-back transaction were written";
}

TEST(SourceTransactions, PreparedTransactionsArriveWhenCommittedAndNeverWhenRolledBack) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  PipelineRunner runner(make_test_config(db, {"public.t"}));
  runner.wait_ready();
  auto a = db.pg_connect();
  a.exec("BEGIN");
  a.exec("INSERT INTO t VALUES (1, 'prepared, then committed')");
  a.exec("PREPARE TRANSACTION '" + db.name() + "_a'");
  auto b = db.pg_connect();
  b.exec("BEGIN");
  b.exec("INSERT INTO t VALUES (2, 'prepared, then rolled back')");
  b.exec("PREPARE TRANSACTION '" + db.name() + "_b'");
  // The stream is not held up by the prepared transactions.
  db.pg_exec("INSERT INTO t VALUES (3, 'plain')");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
  db.pg_exec("COMMIT PREPARED '" + db.name() + "_a'");
  db.pg_exec("ROLLBACK PREPARED '" + db.name() + "_b'");
  db.pg_exec("INSERT INTO t VALUES (4, 'after')");
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
  EXPECT_EQ(db.ch_rows("SELECT id FROM t FINAL WHERE _deleted = 0 ORDER BY id"), (Rows{{"1"}, {"3"}, {"4"}}));
}

TEST(SourceTransactions, ATwentyMegabyteValueArrivesWhole) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, body text, n int)");
  db.pg_exec("INSERT INTO t SELECT 1, string_agg(md5(g::text), '') , 0 FROM generate_series(1, 655360) g");
  PipelineRunner runner(make_test_config(db, {"public.t"}));
  runner.wait_ready();
  db.pg_exec("INSERT INTO t SELECT 2, string_agg(md5((g * 7)::text), ''), 0 FROM generate_series(1, 655360) g");
  db.pg_exec("UPDATE t SET n = n + 1");  // the big values unchanged: TOAST pointers in the stream
  EXPECT_TRUE(wait_equal(db, {"SELECT id, length(body), md5(body), n FROM t ORDER BY id",
                              "SELECT id, length(body), lower(hex(MD5(body))), n FROM t FINAL WHERE _deleted = 0 ORDER BY id"}));
}

}  // namespace
}  // namespace pg2ch::test
