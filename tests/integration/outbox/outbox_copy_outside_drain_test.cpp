// mode = "outbox": a copy request (partition_copies.h) is served by a copy that runs after the
// drain transaction that took the requests committed. Before, the drainer copied the table inside
// that transaction: it stayed open with a transaction id for the whole copy (holding the requests
// and the superseded events locked, and the events table's vacuum back). And a kill at any point
// (right after that short transaction committed, the table marked copying and its requests gone;
// or mid-copy, a range done) ends exact at the next start, under a concurrent writer that keeps
// inserting into the truncated partition, updating, deleting and moving rows between partitions;
// and two drainers never copy the table at once.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "outbox/outbox_support.h"
#include "support/background_writer.h"
#include "support/child_process.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// big: a (`rows_a` rows of ~110 bytes), m, k and z (100 rows each), created in that order (the
// copy reads leaves by oid).
void create_big(TestDatabase& db, int rows_a) {
  db.pg_exec("CREATE TABLE big (id int NOT NULL, region text NOT NULL, v text, PRIMARY KEY (id, region)) "
             "PARTITION BY LIST (region)");
  for (const char* r : {"a", "m", "k", "z"}) {
    db.pg_exec(std::string("CREATE TABLE big_") + r + " PARTITION OF big FOR VALUES IN ('" + r + "')");
  }
  db.pg_exec("INSERT INTO big SELECT g, 'a', repeat('x', 100) || g FROM generate_series(1, " + std::to_string(rows_a) +
             ") g");
  db.pg_exec("INSERT INTO big SELECT g, r, 'v' || g FROM generate_series(1, 100) g, unnest(ARRAY['m', 'k', 'z']) r");
}

// One worker, small ranges: big_a is copied in several.
config::Config slow_copy_config(const TestDatabase& db, const std::string& payload) {
  auto cfg = outbox_config(db, {"public.big"}, payload);
  cfg.logical.snapshot_workers = 1;
  cfg.logical.snapshot_range_mb = 1;
  return cfg;
}

// Inserts into m (the partition truncated) and k, updates and deletes rows of a, and moves rows
// between m and k by an UPDATE of the partition key. It never touches big_z (every statement
// names its partitions): a lock on big_z holds the copy, not the writer.
std::unique_ptr<BackgroundWriter> start_writer(TestDatabase& db) {
  return std::make_unique<BackgroundWriter>(db, [](pg::Connection& c, int i) {
    const std::string n = std::to_string(i);
    c.exec("INSERT INTO big VALUES (" + std::to_string(1000 + i) + ", '" + (i % 2 == 0 ? "m" : "k") + "', 'new" + n +
           "')");
    c.exec("UPDATE big SET v = 'u" + n + "' WHERE region = 'a' AND id = " + std::to_string(1 + (i * 37) % 5000));
    if (i % 3 == 0) c.exec("DELETE FROM big WHERE region = 'a' AND id = " + std::to_string(1 + (i * 53) % 5000));
    if (i % 5 == 0) {
      c.exec("UPDATE big SET region = CASE region WHEN 'm' THEN 'k' ELSE 'm' END, v = 'moved' WHERE region IN ('m', "
             "'k') AND id = " + std::to_string(1000 + i - 3) +
             " AND NOT EXISTS (SELECT 1 FROM big b2 WHERE b2.region IN ('m', 'k') AND b2.id = big.id AND b2.region <> "
             "big.region)");
    }
  }, 5ms);
}

std::string requests_queued(TestDatabase& db, const config::Config& cfg) {
  return db.pg_rows("SELECT count(*) FROM " + cfg.outbox.schema + "." + cfg.outbox.table + "_truncates")[0][0];
}

// A session holding big_z locked: a copy (its plan or its COPY) of big waits for it, and so would
// a drainer reading big's events (the key payload's fetch reads big), so the queue is drained
// first.
pg::Connection lock_big_z(TestDatabase& db, const config::Config& cfg) {
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  auto holder = db.pg_connect();
  holder.exec("BEGIN");
  holder.exec("LOCK TABLE big_z IN ACCESS EXCLUSIVE MODE");
  return holder;
}

// The copy (its plan or its COPY) waits for the lock the test holds on big_z.
TEST(OutboxCopyOutsideDrain, NoDrainTransactionIsOpenWhileTheCopyRunsAndTheTableEndsEqual) {
  auto db = make_test_database();
  create_big(db, 20000);
  const auto cfg = slow_copy_config(db, "key");
  outbox_setup(cfg);
  const auto q = same_columns("big", "id, region, v", "id, region");
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, q, 120s)) << runner.describe();

  auto holder = lock_big_z(db, cfg);
  db.pg_exec("TRUNCATE big_m");  // a copy request: big is copied again
  const auto copy_waits = [&] {
    return db.pg_rows("SELECT count(*) FROM pg_locks WHERE relation = 'big_z'::regclass AND NOT granted")[0][0] != "0";
  };
  ASSERT_TRUE(wait_until(copy_waits, 60s)) << runner.describe();
  auto writer = start_writer(db);  // its events follow the request: no drainer reads big meanwhile
  std::this_thread::sleep_for(500ms);
  // A transaction of pg2ch's with a transaction id (row locks, deletes), open for longer than the
  // copy has been waiting: the drain transaction that took the request, spanning the copy.
  const auto spanning = db.pg_rows(
      "SELECT count(*) FROM pg_stat_activity a WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() "
      "AND a.pid <> " + holder.query("SELECT pg_backend_pid()").text(0, 0) + " AND a.backend_xid IS NOT NULL AND "
      "a.xact_start < (SELECT min(w.xact_start) FROM pg_stat_activity w JOIN pg_locks l ON l.pid = w.pid WHERE "
      "l.relation = 'big_z'::regclass AND NOT l.granted)");
  EXPECT_EQ(spanning[0][0], "0") << "a transaction with a transaction id, open since before the copy began";
  EXPECT_TRUE(copy_waits()) << "the copy still waits for big_z";
  holder.exec("COMMIT");
  writer->finish();
  EXPECT_TRUE(wait_equal(db, q, 120s)) << runner.describe();
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// Two drainers (processes): while one copies big for a request, a second request comes; the other
// drainer must not copy big beside it (its TRUNCATE of the target and older snapshot would leave
// rows the second copy removed): it leaves the request queued until the first copy is done.
TEST(OutboxCopyOutsideDrain, TwoDrainersNeverCopyTheTableAtOnceAndEndEqual) {
  auto db = make_test_database();
  create_big(db, 20000);
  const auto cfg = slow_copy_config(db, "key");
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  const auto q = same_columns("big", "id, region, v", "id, region");
  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, q, 120s)) << runner.describe();
    runner.stop();
  }
  auto a = ChildProcess::spawn_pg2ch({.args = {"--config", config.string(), "run"}, .dir = db.dir(), .log_prefix = "a"});
  auto b = ChildProcess::spawn_pg2ch({.args = {"--config", config.string(), "run"}, .dir = db.dir(), .log_prefix = "b"});
  std::this_thread::sleep_for(2s);
  auto holder = lock_big_z(db, cfg);
  db.pg_exec("TRUNCATE big_m");
  const auto copies_waiting = [&] {
    return db.pg_rows("SELECT count(*) FROM pg_locks WHERE relation = 'big_z'::regclass AND NOT granted")[0][0];
  };
  ASSERT_TRUE(wait_until([&] { return copies_waiting() != "0"; }, 60s)) << a.describe() << b.describe();
  auto writer = start_writer(db);
  // A second request while big is copied, as attached_partitions.h queues one (a TRUNCATE of big_k
  // would wait for the waiting copy's plan, which read big_k's size).
  db.pg_exec("INSERT INTO " + cfg.outbox.schema + "." + cfg.outbox.table + "_truncates (lsn, rel, part) VALUES "
             "(pg_current_wal_insert_lsn(), 'big'::regclass, 'big_k'::regclass)");
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(copies_waiting(), "1") << "one copy of big at a time";
  holder.exec("COMMIT");
  std::this_thread::sleep_for(500ms);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, q, 120s)) << a.describe() << b.describe();
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0" && requests_queued(db, cfg) == "0"; }, 30s))
      << "the queue drains";
  ASSERT_TRUE(a.running()) << a.describe();
  ASSERT_TRUE(b.running()) << b.describe();
  EXPECT_EQ(a.stop(SIGTERM), 0) << a.describe();
  EXPECT_EQ(b.stop(SIGTERM), 0) << b.describe();
}

using CrashParam = std::tuple<const char*, const char*>;  // crash point, payload

class OutboxCopyOutsideDrainCrash : public ::testing::TestWithParam<CrashParam> {};

// pg2ch dies (PG2CH_CRASH_AT, as a SIGKILL there would) right after the short transaction marked
// big copying and deleted its request and the events before it, or after the copy recorded its
// first range done. The next start copies big (whole, or the ranges left from a new snapshot),
// and the events after the request win by version: every row ends equal.
TEST_P(OutboxCopyOutsideDrainCrash, TheNextStartEndsEqual) {
  const auto& [place, payload] = GetParam();
  auto db = make_test_database();
  create_big(db, 20000);
  const auto cfg = slow_copy_config(db, payload);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  const auto q = same_columns("big", "id, region, v", "id, region");
  {
    PipelineRunner runner(cfg);  // the initial copy, which passes the crash point of a range too
    ASSERT_TRUE(wait_equal(db, q, 120s)) << runner.describe();
    runner.stop();
  }
  auto writer = start_writer(db);
  auto cut = ChildProcess::spawn_pg2ch({.args = {"--config", config.string(), "run"},
                                        .env = {{"PG2CH_CRASH_AT", place}},
                                        .dir = db.dir(),
                                        .log_prefix = "cut"});
  db.pg_exec("TRUNCATE big_m");
  ASSERT_EQ(cut.wait(120s), std::optional<int>(137)) << "did not die at " << place << ": " << cut.describe();
  db.pg_exec("TRUNCATE big_z");  // while pg2ch is down: a request the next start finds queued
  PipelineRunner runner(cfg);
  runner.wait_ready(120s);
  std::this_thread::sleep_for(1s);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, q, 120s)) << runner.describe();
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0" && requests_queued(db, cfg) == "0"; }, 30s))
      << "the queue drains";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(BothPlacesBothPayloads, OutboxCopyOutsideDrainCrash,
                         ::testing::Combine(::testing::Values("outbox_copy_request_taken", "copy_range_recorded"),
                                            ::testing::Values("key", "row")),
                         [](const ::testing::TestParamInfo<CrashParam>& info) {
                           return std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
                         });

}  // namespace
}  // namespace pg2ch::test
