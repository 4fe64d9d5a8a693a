// Transactions larger than logical_decoding_work_mem streamed while in progress (pgoutput
// protocol 2, logical.streaming, capture/logical/transaction_spool.h): nothing of them is
// visible in ClickHouse before their commit, a rolled-back one or subtransaction leaves nothing,
// ordinary transactions committed meanwhile arrive at once, and a kill mid-transaction loses
// nothing.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "support/child_process.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// The smallest work_mem the server takes, so a few thousand rows are streamed; set for the
// database, which the walsender's session reads when it connects.
void stream_small_transactions(TestDatabase& db) {
  db.pg_exec("ALTER DATABASE " + db.name() + " SET logical_decoding_work_mem = '64kB'");
}

long streamed_transactions(TestDatabase& db) {
  const auto rows =
      db.pg_rows("SELECT coalesce(stream_txns, 0) FROM pg_stat_replication_slots WHERE slot_name = '" + db.name() + "'");
  return rows.empty() ? 0 : std::stol(rows[0][0]);
}

const TableQuery kItems = same_columns("items", "id, note, n", "id");

TEST(LogicalStreamedTransactions, NothingBeforeCommitRolledBackPartsLeaveNothingOthersArriveMeanwhile) {
  auto db = make_test_database();
  stream_small_transactions(db);
  db.pg_exec("CREATE TABLE items (id bigint PRIMARY KEY, note text, n int)");
  db.pg_exec("INSERT INTO items VALUES (0, 'seed', 0)");
  auto cfg = make_test_config(db);
  cfg.log.level = "debug";
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, kItems)) << "snapshot";

  auto big = db.pg_connect();
  big.exec("BEGIN");
  big.exec("INSERT INTO items SELECT g, repeat('x', 50) || g, 1 FROM generate_series(1, 20000) g");
  big.exec("SAVEPOINT s1");
  big.exec("INSERT INTO items SELECT g, 'rolled back', 2 FROM generate_series(20001, 25000) g");
  big.exec("UPDATE items SET n = 99 WHERE id <= 100");
  big.exec("ROLLBACK TO SAVEPOINT s1");
  big.exec("SAVEPOINT s2");
  big.exec("UPDATE items SET n = 3 WHERE id % 7 = 0");
  big.exec("RELEASE SAVEPOINT s2");
  big.exec("DELETE FROM items WHERE id % 11 = 0");
  // Streamed already: the server sent the transaction's changes while it is still open.
  ASSERT_TRUE(wait_until([&] { return streamed_transactions(db) > 0; }, 60s)) << "the transaction was not streamed";

  // An ordinary transaction committed meanwhile arrives, and none of the open one does.
  db.pg_exec("INSERT INTO items VALUES (-1, 'small', 1)");
  ASSERT_TRUE(wait_equal(db, kItems)) << "small transaction while the big one is open";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM items FINAL WHERE _deleted = 0"), (Rows{{"2"}}));

  big.exec("COMMIT");
  ASSERT_TRUE(wait_equal(db, kItems, 120s)) << "after the commit";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM items FINAL WHERE _deleted = 0 AND note = 'rolled back'"), (Rows{{"0"}}));

  // A whole streamed transaction rolled back leaves nothing; the next change still arrives.
  const long before = streamed_transactions(db);
  big.exec("BEGIN");
  big.exec("UPDATE items SET note = 'never' WHERE id > 0");
  big.exec("INSERT INTO items SELECT g, 'never', 5 FROM generate_series(100000, 120000) g");
  ASSERT_TRUE(wait_until([&] { return streamed_transactions(db) > before; }, 60s));
  big.exec("ROLLBACK");
  db.pg_exec("UPDATE items SET note = 'after rollback' WHERE id = -1");
  ASSERT_TRUE(wait_equal(db, kItems, 120s)) << "after a streamed rollback";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM items WHERE note = 'never'"), (Rows{{"0"}}))
      << "no row of a rolled-back transaction was written, not even superseded";
  runner.stop();
}

TEST(LogicalStreamedTransactions, AKillWhileATransactionIsStreamingLosesNothing) {
  auto db = make_test_database();
  stream_small_transactions(db);
  db.pg_exec("CREATE TABLE items (id bigint PRIMARY KEY, note text, n int)");
  const auto config = write_config_file(make_test_config(db), db.dir() / "pg2ch.toml");
  auto start = [&](const std::string& tag) {
    return ChildProcess::spawn_pg2ch(
        {.args = {"--config", config.string(), "run"}, .env = {}, .dir = db.dir(), .log_prefix = tag});
  };
  auto first = start("first");
  // Streaming before the big transaction opens: creating the slot waits for every transaction
  // with an xid open when it starts (the empty tables are equal as soon as the target exists).
  ASSERT_TRUE(wait_until([&] { return first.stderr_text().find("streaming from slot") != std::string::npos; }, 60s))
      << first.describe();
  ASSERT_TRUE(wait_equal(db, kItems)) << first.describe();

  auto big = db.pg_connect();
  big.exec("BEGIN");
  big.exec("INSERT INTO items SELECT g, 'before the kill ' || g, 1 FROM generate_series(1, 20000) g");
  ASSERT_TRUE(wait_until([&] { return streamed_transactions(db) > 0; }, 60s)) << first.describe();
  db.pg_exec("INSERT INTO items VALUES (-1, 'small', 1)");
  ASSERT_TRUE(wait_equal(db, kItems)) << first.describe();
  first.kill();  // its spool goes with it

  big.exec("INSERT INTO items SELECT g, 'after the kill', 2 FROM generate_series(20001, 30000) g");
  big.exec("UPDATE items SET n = n + 10 WHERE id % 3 = 0");
  auto second = start("second");
  big.exec("INSERT INTO items SELECT g, 'with the second', 3 FROM generate_series(30001, 35000) g");
  big.exec("COMMIT");
  EXPECT_TRUE(wait_equal(db, kItems, 120s)) << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

TEST(LogicalStreamedTransactions, TurnedOffTheServerSendsOnlyAtCommit) {
  auto db = make_test_database();
  stream_small_transactions(db);
  db.pg_exec("CREATE TABLE items (id bigint PRIMARY KEY, note text, n int)");
  auto cfg = make_test_config(db);
  cfg.logical.streaming = false;
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, kItems));
  db.pg_exec("INSERT INTO items SELECT g, 'x', 1 FROM generate_series(1, 20000) g");
  ASSERT_TRUE(wait_equal(db, kItems, 120s));
  EXPECT_EQ(streamed_transactions(db), 0);
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
