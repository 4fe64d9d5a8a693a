// mode = "notify" on a partitioned table named as one table: its notify trigger is a row trigger
// cloned to every partition (notify_triggers.h), so writes straight into a partition, and into
// partitions created later, wake the pipeline although the fallback poll is 10 minutes away; a
// table attached with rows whose watermark lies below the checkpoint is read again
// (capture/shared/attached_partitions.h). Under a concurrent writer, every row and column ends
// equal. (Deletes, and so the old key of a row moved to another partition, are not captured in
// this mode: README "Polling".)
#include <gtest/gtest.h>

#include <thread>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "support/background_writer.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(NotifyPartitioned, WritesToEveryPartitionNotifyAndAttachedRowsArrive) {
  auto db = make_test_database();
  create_partitioned_sales_updated_at(db);
  auto cfg = watermark_config(db, "notify", "sales", "updated_at");
  cfg.poll.interval = 600s;  // rows that arrive were fetched because a notification woke pg2ch
  capture::capture_mode("notify").setup(cfg);
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pg2ch_notify%' AND "
                       "tgrelid = 'sales_us_1'::regclass"),
            (Rows{{"1"}}))
      << "the trigger is cloned to the partitions, at any depth";
  const std::string ch_us = db.ch().capabilities().datetime64 ? "toUnixTimestamp64Micro(updated_at)" : "updated_at";
  const TableQuery q{"SELECT id, region, v, (extract(epoch from updated_at) * 1000000)::bigint FROM sales "
                     "ORDER BY id, region",
                     "SELECT id, region, v, " + ch_us + " FROM sales FINAL WHERE _deleted = 0 ORDER BY id, region"};
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "initial rows of every partition";

  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    c.exec("UPDATE sales SET v = 'u" + std::to_string(i) + "' WHERE id = " + std::to_string(1 + (i * 37) % 3000));
    c.exec("INSERT INTO sales (id, region, v) VALUES (" + std::to_string(10000 + i) + ", '" +
           (i % 2 == 0 ? "eu" : "us") + "', 'new')");
    // Straight into a partition: a statement trigger on the partitioned table would not fire.
    c.exec("INSERT INTO sales_eu (id, region, v) VALUES (" + std::to_string(20000 + i) + ", 'eu', 'direct')");
  }, 5ms);
  std::this_thread::sleep_for(500ms);
  db.pg_exec("CREATE TABLE sales_asia PARTITION OF sales FOR VALUES IN ('asia')");
  db.pg_exec("CREATE TABLE sales_other PARTITION OF sales DEFAULT");
  db.pg_exec("INSERT INTO sales_asia (id, region, v) SELECT g, 'asia', 'a' || g FROM generate_series(1, 500) g");
  db.pg_exec("INSERT INTO sales (id, region, v) SELECT g, 'mars', 'm' || g FROM generate_series(1, 300) g");
  // Filled before it is attached, with a watermark far below the checkpoint.
  db.pg_exec("CREATE TABLE sales_moon (id bigint NOT NULL, region text NOT NULL, v text, "
             "updated_at timestamptz NOT NULL, PRIMARY KEY (id, region))");
  db.pg_exec("INSERT INTO sales_moon SELECT g, 'moon', 'attached' || g, '2001-01-01' FROM generate_series(1, 400) g");
  db.pg_exec("ALTER TABLE sales ATTACH PARTITION sales_moon FOR VALUES IN ('moon')");
  std::this_thread::sleep_for(7s);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "rows of partitions created later, the attached rows, the writer's";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE region = 'moon'"), (Rows{{"400"}}));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
