// mode = "poll" and "notify" on a partitioned table: a table attached as a partition, with rows
// whose watermark lies below the checkpoint, while pg2ch was not running is found at the next
// start (the partitions seen are kept in the table's state, capture/shared/attached_partitions.h)
// and the table is read again from its first row. Under a concurrent writer that inserts and
// updates (these modes capture neither deletes nor the old key of a row moved to another
// partition: README "Polling"), every row and column ends equal. So with a partition detached,
// changed and attached again, while running (in one transaction, between two looks) and while
// pg2ch was not running: its pg_inherits row is another one, so it counts as attached. So with a
// table created, filled and attached in one transaction (it looks created as a partition, but its
// rows came in unseen), while running and while pg2ch was not running.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <thread>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "support/background_writer.h"
#include "support/partition_changes.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class WatermarkPartitionAttachedOffline : public ::testing::TestWithParam<std::string> {};

// sales' rows (all of them: "1 = 1") in both databases, updated_at in microseconds.
TableQuery sales_rows(TestDatabase& db, const std::string& where) {
  const std::string ch_us = db.ch().capabilities().datetime64 ? "toUnixTimestamp64Micro(updated_at)" : "updated_at";
  return {"SELECT id, region, v, (extract(epoch from updated_at) * 1000000)::bigint FROM sales WHERE " + where +
              " ORDER BY id, region",
          "SELECT id, region, v, " + ch_us + " FROM sales FINAL WHERE _deleted = 0 AND " + where +
              " ORDER BY id, region"};
}

// Updates and inserts rows in eu and us only: an update of a row attached later would bring it in
// with a new watermark.
std::unique_ptr<BackgroundWriter> start_eu_us_writer(TestDatabase& db) {
  return std::make_unique<BackgroundWriter>(db, [](pg::Connection& c, int i) {
    c.exec("UPDATE sales SET v = 'u" + std::to_string(i) + "' WHERE id = " + std::to_string(1 + (i * 37) % 3000) +
           " AND region IN ('eu', 'us')");
    c.exec("INSERT INTO sales (id, region, v) VALUES (" + std::to_string(10000 + i) + ", '" +
           (i % 2 == 0 ? "eu" : "us") + "', 'new')");
  }, 5ms);
}

TEST_P(WatermarkPartitionAttachedOffline, IsReadAgainAtTheNextStart) {
  auto db = make_test_database();
  create_partitioned_sales_updated_at(db);
  auto cfg = watermark_config(db, GetParam(), "sales", "updated_at");
  if (GetParam() == "notify") capture::capture_mode("notify").setup(cfg);
  const TableQuery q = sales_rows(db, "1 = 1");
  std::optional<PipelineRunner> runner(std::in_place, cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "initial rows of every partition";
  auto writer = start_eu_us_writer(db);
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_eu"));
  runner->stop();
  runner.reset();

  // Filled before it is attached, with a watermark far below the checkpoint.
  db.pg_exec("CREATE TABLE sales_moon (id bigint NOT NULL, region text NOT NULL, v text, "
             "updated_at timestamptz NOT NULL, PRIMARY KEY (id, region))");
  db.pg_exec("INSERT INTO sales_moon SELECT g, 'moon', 'attached' || g, '2001-01-01' FROM generate_series(1, 400) g");
  db.pg_exec("ALTER TABLE sales ATTACH PARTITION sales_moon FOR VALUES IN ('moon')");
  runner.emplace(cfg);
  std::this_thread::sleep_for(2s);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "the rows of the partition attached while pg2ch was stopped";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE region = 'moon'"), (Rows{{"400"}}));
  EXPECT_FALSE(runner->failed()) << runner->describe();
  runner->stop();
}

// Changes to the detached sales_moon that no trigger or watermark of sales sees: it keeps its old
// updated_at (the touching trigger is not on it while detached).
std::string change_detached_moon(int round) { return change_moon(round, "", "'2001-01-01'"); }

TEST_P(WatermarkPartitionAttachedOffline, APartitionDetachedChangedAndAttachedAgainIsReadAgain) {
  auto db = make_test_database();
  create_partitioned_sales_updated_at(db);
  db.pg_exec("CREATE TABLE sales_moon PARTITION OF sales FOR VALUES IN ('moon')");
  db.pg_exec("INSERT INTO sales (id, region, v) SELECT g, 'moon', 'm' || g FROM generate_series(1, 300) g");
  auto cfg = watermark_config(db, GetParam(), "sales", "updated_at");
  if (GetParam() == "notify") capture::capture_mode("notify").setup(cfg);
  std::optional<PipelineRunner> runner(std::in_place, cfg);
  ASSERT_TRUE(wait_equal(db, sales_rows(db, "1 = 1"))) << "initial rows of every partition";
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_moon"));
  auto writer = start_eu_us_writer(db);

  // While running, between two looks.
  detach_change_attach_moon(db, change_detached_moon(0), /*one_transaction=*/true);
  EXPECT_TRUE(wait_equal(db, sales_rows(db, "region = 'moon'"), 30s)) << "changed while detached, pg2ch running";
  runner->stop();
  runner.reset();

  // While pg2ch is not running (the writer goes on).
  detach_change_attach_moon(db, change_detached_moon(1), /*one_transaction=*/false);
  runner.emplace(cfg);
  std::this_thread::sleep_for(1s);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, sales_rows(db, "1 = 1"), 30s)) << "changed while detached, pg2ch stopped";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND v = 'late1'"), (Rows{{"100"}}));
  EXPECT_FALSE(runner->failed()) << runner->describe();
  runner->stop();
}

// Its rows' watermark lies far below the checkpoint.
TEST_P(WatermarkPartitionAttachedOffline, APartitionCreatedFilledAndAttachedInOneTransactionIsReadAgain) {
  auto db = make_test_database();
  create_partitioned_sales_updated_at(db);
  auto cfg = watermark_config(db, GetParam(), "sales", "updated_at");
  if (GetParam() == "notify") capture::capture_mode("notify").setup(cfg);
  std::optional<PipelineRunner> runner(std::in_place, cfg);
  ASSERT_TRUE(wait_equal(db, sales_rows(db, "1 = 1"))) << "initial rows of every partition";
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_eu"));
  auto writer = start_eu_us_writer(db);

  db.pg_exec(create_fill_attach("sales", "moon", 300, "'2001-01-01'"));
  EXPECT_TRUE(wait_equal(db, sales_rows(db, "region = 'moon'"), 30s)) << "created, filled and attached, pg2ch running";
  runner->stop();
  runner.reset();

  db.pg_exec(create_fill_attach("sales", "sun", 400, "'2001-01-01'"));
  runner.emplace(cfg);
  std::this_thread::sleep_for(2s);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, sales_rows(db, "1 = 1"), 60s)) << "created, filled and attached, pg2ch stopped";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE region IN ('moon', 'sun')"), (Rows{{"700"}}));
  EXPECT_FALSE(runner->failed()) << runner->describe();
  runner->stop();
}

INSTANTIATE_TEST_SUITE_P(Modes, WatermarkPartitionAttachedOffline, ::testing::Values("poll", "notify"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
