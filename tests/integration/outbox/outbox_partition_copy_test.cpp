// mode = "outbox" on a partitioned table: the changes no row trigger sees. A TRUNCATE of one
// partition (a leaf, a sub-partitioned partition, a leaf below it), a DETACH and a DROP of a
// partition, while running and while pg2ch was not running, and a partition attached with rows
// while pg2ch was not running, and one detached, changed and attached again (while running, in
// one transaction, and while pg2ch was not running), and a table created, filled and attached in
// one transaction (while running and while pg2ch was not running): each queues a copy request and the table is
// copied again in its place among the events (capture/outbox/partition_copies.h), so exactly that
// partition's rows leave (or enter, or change in) the target. Under a concurrent writer that
// inserts, updates, deletes and moves rows between partitions, every row ends equal, with both
// payloads.
#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "capture/shared/attached_partitions.h"
#include "outbox/outbox_support.h"
#include "state/file_state_store.h"
#include "support/background_writer.h"
#include "support/partition_changes.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class OutboxPartitionCopy : public ::testing::TestWithParam<std::string> {
 protected:
  // sales: eu, us (sub-partitioned by hash: us_0, us_1), asia, moon; 1200 rows in each of
  // eu/us/asia/moon.
  void create_sales() {
    create_partitioned_sales(db);
    db.pg_exec("CREATE TABLE sales_asia PARTITION OF sales FOR VALUES IN ('asia')");
    db.pg_exec("CREATE TABLE sales_moon PARTITION OF sales FOR VALUES IN ('moon')");
    db.pg_exec("INSERT INTO sales SELECT g, r, 'v' || g, 0 FROM generate_series(1, 1200) g, "
               "unnest(ARRAY['eu', 'us', 'asia', 'moon']) r");
  }

  // Inserts into eu and us (and asia unless it may be detached), updates rows of the regions
  // created here (an update of an attached row would bring it in through its event) and deletes
  // rows of every region by id, and moves rows between eu and us by an UPDATE of the partition key.
  std::unique_ptr<BackgroundWriter> start_writer(bool into_asia) {
    return std::make_unique<BackgroundWriter>(db, [into_asia](pg::Connection& c, int i) {
      const std::string n = std::to_string(i);
      c.exec("UPDATE sales SET v = 'u" + n + "', n = n + 1 WHERE id = " + std::to_string(1 + (i * 37) % 1200) +
             " AND region IN ('eu', 'us', 'asia', 'moon', 'mars', 'venus')");
      const std::string region = into_asia && i % 3 == 0 ? "asia" : (i % 2 == 0 ? "eu" : "us");
      c.exec("INSERT INTO sales VALUES (" + std::to_string(10000 + i) + ", '" + region + "', 'new', " + n + ")");
      const std::string moved = std::to_string(1 + (i * 101) % 1200);
      c.exec("UPDATE sales SET region = CASE region WHEN 'eu' THEN 'us' ELSE 'eu' END, v = 'moved' WHERE id = " + moved +
             " AND region IN ('eu', 'us') AND NOT EXISTS (SELECT 1 FROM sales s2 WHERE s2.id = " + moved +
             " AND s2.region = CASE sales.region WHEN 'eu' THEN 'us' ELSE 'eu' END)");
      if (i % 3 == 0) c.exec("DELETE FROM sales WHERE id = " + std::to_string(1 + (i * 53) % 1200));
    });
  }

  TestDatabase db = make_test_database();
  TableQuery q = same_columns("sales", "id, region, v, n", "id, region");
};

TEST_P(OutboxPartitionCopy, ATruncateOfOnePartitionRemovesExactlyItsRows) {
  create_sales();
  const auto cfg = outbox_config(db, {"public.sales"}, GetParam());
  outbox_setup(cfg);
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "the rows that existed at setup";
  auto writer = start_writer(/*into_asia=*/true);
  std::this_thread::sleep_for(300ms);
  db.pg_exec("TRUNCATE sales_asia");  // a leaf the writer keeps inserting into
  std::this_thread::sleep_for(300ms);
  db.pg_exec("TRUNCATE sales_us");  // a partitioned partition: both its leaves
  std::this_thread::sleep_for(300ms);
  // Rows the writer never moves (a row moved under this UPDATE fails it with SQLSTATE 40001).
  db.pg_exec("BEGIN; UPDATE sales SET v = 'before' WHERE region = 'eu' AND id > 1200; TRUNCATE sales_us_1; "
             "INSERT INTO sales VALUES (5000, 'us', 'after', 0), (5001, 'us', 'after', 0); COMMIT");
  std::this_thread::sleep_for(1s);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "the truncated partitions' rows gone, every other row there";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region = 'moon'"),
            db.pg_rows("SELECT count(*) FROM sales WHERE region = 'moon'"));
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

TEST_P(OutboxPartitionCopy, ADetachedOrDroppedPartitionLeavesTheTargetWhileRunningAndAtTheNextStart) {
  create_sales();
  db.pg_exec("CREATE TABLE sales_mars PARTITION OF sales FOR VALUES IN ('mars')");
  db.pg_exec("CREATE TABLE sales_venus PARTITION OF sales FOR VALUES IN ('venus')");
  db.pg_exec("INSERT INTO sales SELECT g, r, 'p' || g, 0 FROM generate_series(1, 300) g, "
             "unnest(ARRAY['mars', 'venus']) r");
  const auto cfg = outbox_config(db, {"public.sales"}, GetParam());
  outbox_setup(cfg);
  std::optional<PipelineRunner> runner(std::in_place, cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "the rows that existed at setup";
  auto writer = start_writer(/*into_asia=*/false);
  std::this_thread::sleep_for(300ms);
  db.pg_exec("ALTER TABLE sales DETACH PARTITION sales_asia");
  db.pg_exec("DROP TABLE sales_moon");
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "the detached and the dropped partition's rows gone while running";
  EXPECT_FALSE(runner->failed()) << runner->describe();
  runner->stop();
  runner.reset();

  // While pg2ch is not running (the writer goes on).
  db.pg_exec("ALTER TABLE sales DETACH PARTITION sales_mars");
  db.pg_exec("DROP TABLE sales_venus");
  std::this_thread::sleep_for(300ms);
  runner.emplace(cfg);
  std::this_thread::sleep_for(2s);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "the partitions detached and dropped while pg2ch was stopped";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region IN ('asia', 'moon', 'mars', "
                       "'venus')"),
            (Rows{{"0"}}));
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner->failed()) << runner->describe();
  runner->stop();
}

TEST_P(OutboxPartitionCopy, APartitionAttachedWithRowsWhilePg2chWasNotRunningIsCopiedAtTheNextStart) {
  create_sales();
  const auto cfg = outbox_config(db, {"public.sales"}, GetParam());
  outbox_setup(cfg);
  std::optional<PipelineRunner> runner(std::in_place, cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "the rows that existed at setup";
  auto writer = start_writer(/*into_asia=*/true);
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_moon"));
  runner->stop();
  runner.reset();

  db.pg_exec("CREATE TABLE sales_sun (id int NOT NULL, region text NOT NULL, v text, n int, PRIMARY KEY (id, region))");
  db.pg_exec("INSERT INTO sales_sun SELECT g, 'sun', 'attached' || g, 0 FROM generate_series(1, 400) g");
  db.pg_exec("ALTER TABLE sales ATTACH PARTITION sales_sun FOR VALUES IN ('sun')");
  db.pg_exec("UPDATE sales SET v = v || '!' WHERE region = 'sun' AND id % 7 = 0");
  runner.emplace(cfg);
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "the rows of the partition attached while pg2ch was stopped";
  db.pg_exec("TRUNCATE sales_sun");  // it got its TRUNCATE trigger at the start
  db.pg_exec("INSERT INTO sales SELECT g, 'sun', 'again' || g, 0 FROM generate_series(1, 50) g");
  std::this_thread::sleep_for(1s);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "the attached partition truncated and filled again";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region = 'sun'"),
            db.pg_rows("SELECT count(*) FROM sales WHERE region = 'sun'"));
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner->failed()) << runner->describe();
  runner->stop();
}

// Changes to the detached sales_moon that no event holds.
std::string change_detached_moon(int round) { return change_moon(round, ", n = n + 1", "0"); }

TEST_P(OutboxPartitionCopy, APartitionDetachedChangedAndAttachedAgainIsCopiedWhileRunningAndAtTheNextStart) {
  create_sales();
  const auto cfg = outbox_config(db, {"public.sales"}, GetParam());
  outbox_setup(cfg);
  std::optional<PipelineRunner> runner(std::in_place, cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "the rows that existed at setup";
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_moon"));
  // Inserts, updates, deletes and moves in eu and us only, so sales_moon can be compared alone meanwhile.
  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    const std::string n = std::to_string(i);
    c.exec("UPDATE sales SET v = 'u" + n + "', n = n + 1 WHERE id = " + std::to_string(1 + (i * 37) % 1200) +
           " AND region IN ('eu', 'us')");
    c.exec("INSERT INTO sales VALUES (" + std::to_string(10000 + i) + ", '" + (i % 2 == 0 ? "eu" : "us") +
           "', 'new', " + n + ")");
    if (i % 3 == 0) {
      c.exec("DELETE FROM sales WHERE id = " + std::to_string(1 + (i * 53) % 1200) + " AND region = 'eu'");
    }
    if (i % 3 == 1) c.exec("UPDATE sales SET region = 'us', v = 'moved' WHERE id = " + std::to_string(10000 + i - 1));
  });
  const TableQuery moon{"SELECT id, region, v, n FROM sales WHERE region = 'moon' ORDER BY id",
                        "SELECT id, region, v, n FROM sales FINAL WHERE _deleted = 0 AND region = 'moon' ORDER BY id"};

  // While running, between two looks.
  detach_change_attach_moon(db, change_detached_moon(0), /*one_transaction=*/true);
  EXPECT_TRUE(wait_equal(db, moon, 30s)) << "changed while detached, pg2ch running";
  runner->stop();
  runner.reset();

  // While pg2ch is not running (the writer goes on).
  detach_change_attach_moon(db, change_detached_moon(1), /*one_transaction=*/false);
  runner.emplace(cfg);
  std::this_thread::sleep_for(1s);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, q, 30s)) << "changed while detached, pg2ch stopped";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND v = 'late1'"), (Rows{{"100"}}));
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner->failed()) << runner->describe();
  runner->stop();
}

TEST_P(OutboxPartitionCopy, APartitionCreatedFilledAndAttachedInOneTransactionIsCopiedWhileRunningAndAtTheNextStart) {
  create_sales();
  const auto cfg = outbox_config(db, {"public.sales"}, GetParam());
  outbox_setup(cfg);
  std::optional<PipelineRunner> runner(std::in_place, cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "the rows that existed at setup";
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_moon"));
  auto writer = start_writer(/*into_asia=*/true);
  const auto at_version_0 = [&] {
    return std::stoll(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND _version = 0")[0][0]);
  };
  // A copy empties the target and writes every row at version 0; the writer only raises versions.
  const auto copied_before = at_version_0();

  // Created as a partition and filled in one transaction: its triggers saw the rows, no copy.
  db.pg_exec("BEGIN; CREATE TABLE sales_mars PARTITION OF sales FOR VALUES IN ('mars'); "
             "INSERT INTO sales_mars SELECT g, 'mars', 'created' || g, 0 FROM generate_series(1, 200) g; COMMIT");
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_mars"));
  db.pg_exec("INSERT INTO sales VALUES (9999, 'mars', 'after the look', 0)");  // drained after any copy it queued
  ASSERT_TRUE(wait_until([&] { return db.ch_rows("SELECT count() FROM sales WHERE id = 9999") == Rows{{"1"}}; }, 30s));
  EXPECT_LE(at_version_0(), copied_before) << "a partition created as one is not copied";

  db.pg_exec(create_fill_attach("sales", "sun", 300, "0"));
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "created, filled and attached, pg2ch running";
  runner->stop();
  runner.reset();

  db.pg_exec(create_fill_attach("sales", "pluto", 400, "0"));
  runner.emplace(cfg);
  std::this_thread::sleep_for(2s);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "created, filled and attached, pg2ch stopped";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region IN ('sun', 'pluto')"),
            db.pg_rows("SELECT count(*) FROM sales WHERE region IN ('sun', 'pluto')"));
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner->failed()) << runner->describe();
  runner->stop();
}

// A state written by a pg2ch that did not keep the pg_inherits xmins ("oid:name" lines): the first
// start only records them and copies nothing (a copy would put every row back at version 0).
TEST_P(OutboxPartitionCopy, AStateWithoutTheXminsOnlyRecordsThemAtTheFirstStart) {
  create_sales();
  const auto cfg = outbox_config(db, {"public.sales"}, GetParam());
  outbox_setup(cfg);
  std::optional<PipelineRunner> runner(std::in_place, cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "the rows that existed at setup";
  db.pg_exec("UPDATE sales SET v = 'seen', n = n + 1 WHERE id <= 10");  // 40 rows at a version above 0
  ASSERT_TRUE(wait_equal(db, q)) << "the updated rows";
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_moon"));
  runner->stop();
  runner.reset();

  const std::string key = "table \"public\".\"sales\" partitions";
  std::string old_state;
  {
    state::FileStateStore store(cfg.state.path);
    for (const auto& [oid, p] : capture::decode_partitions(store.get(key).value_or(""))) {
      ASSERT_NE(p.link, 0U) << p.name;
      old_state += (old_state.empty() ? "" : "\n") + std::to_string(oid) + ":" + p.name;
    }
    store.put({{key, old_state}});
  }
  runner.emplace(cfg);
  ASSERT_TRUE(wait_until([&] { return state::FileStateStore(cfg.state.path).get(key) != old_state; }, 30s))
      << "the first look records the xmins";
  db.pg_exec("UPDATE sales SET v = 'after', n = n + 1 WHERE id = 11");  // an event after any copy that look queued
  EXPECT_TRUE(wait_equal(db, q, 30s));
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND _version > 0"), (Rows{{"44"}}))
      << "no copy of the table";
  EXPECT_FALSE(runner->failed()) << runner->describe();
  runner->stop();
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxPartitionCopy, ::testing::Values("key", "row"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
