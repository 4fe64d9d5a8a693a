// mode = "outbox" on a partitioned table named as one table: one target for every partition, under
// a concurrent writer that inserts through the partitioned table and into partitions directly,
// updates, deletes and moves rows to another partition by an UPDATE of the partition key, while
// a partition is created, a default one too, and a table holding rows is attached. Row triggers
// on the partitioned table are cloned to every partition (outbox_sql.h, level_for); the attached
// rows, which no trigger saw, arrive by a copy of the table again
// (capture/shared/attached_partitions.h). Every row and column ends equal, with both payloads and
// with outbox.triggers = "statement" (a partitioned table gets row triggers all the same).
#include <gtest/gtest.h>

#include <thread>

#include "outbox/outbox_support.h"
#include "support/background_writer.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class OutboxPartitioned : public ::testing::TestWithParam<std::string> {};

TEST_P(OutboxPartitioned, OneTargetForEveryPartitionRowsMovedAndPartitionsAddedOrAttachedLater) {
  auto db = make_test_database();
  create_partitioned_sales(db);
  db.pg_exec("INSERT INTO sales SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'v' || g, 0 "
             "FROM generate_series(1, 3000) g");
  const auto cfg = outbox_config(db, {"public.sales"}, GetParam());
  outbox_setup(cfg);
  const auto q = same_columns("sales", "id, region, v, n", "id, region");
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "the rows that existed at setup, of every partition";

  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    const std::string n = std::to_string(i);
    const std::string id = std::to_string(1 + (i * 37) % 3000);
    c.exec("UPDATE sales SET v = 'u" + n + "', n = n + 1 WHERE id = " + id);
    c.exec("INSERT INTO sales VALUES (" + std::to_string(10000 + i) + ", '" + (i % 2 == 0 ? "eu" : "us") +
           "', 'new', " + n + ")");
    // Straight into a partition: the partitioned table's statement triggers would not fire.
    c.exec("INSERT INTO sales_eu VALUES (" + std::to_string(20000 + i) + ", 'eu', 'direct', " + n + ")");
    // A move to another partition (a DELETE and an INSERT at the trigger level), both ways.
    c.exec("UPDATE sales SET region = CASE region WHEN 'eu' THEN 'us' ELSE 'eu' END, v = 'moved' WHERE id = " +
           std::to_string(1 + (i * 101) % 3000) + " AND region IN ('eu', 'us') AND NOT EXISTS (SELECT 1 FROM sales s2 WHERE s2.id = " +
           std::to_string(1 + (i * 101) % 3000) + " AND s2.region = CASE sales.region WHEN 'eu' THEN 'us' ELSE "
           "'eu' END)");
    if (i % 3 == 0) c.exec("DELETE FROM sales WHERE id = " + std::to_string(1 + (i * 53) % 3000));
  }, 3ms);
  std::this_thread::sleep_for(500ms);
  db.pg_exec("CREATE TABLE sales_asia PARTITION OF sales FOR VALUES IN ('asia')");
  db.pg_exec("CREATE TABLE sales_other PARTITION OF sales DEFAULT");
  db.pg_exec("INSERT INTO sales SELECT g, 'asia', 'a' || g, 0 FROM generate_series(1, 500) g");
  db.pg_exec("INSERT INTO sales SELECT g, 'mars', 'm' || g, 0 FROM generate_series(1, 300) g");
  // A table filled before it is attached: its rows enter with no trigger firing.
  db.pg_exec("CREATE TABLE sales_moon (id int NOT NULL, region text NOT NULL, v text, n int, PRIMARY KEY (id, region))");
  db.pg_exec("INSERT INTO sales_moon SELECT g, 'moon', 'attached' || g, 0 FROM generate_series(1, 400) g");
  db.pg_exec("ALTER TABLE sales ATTACH PARTITION sales_moon FOR VALUES IN ('moon')");
  db.pg_exec("UPDATE sales SET v = v || '!' WHERE region IN ('asia', 'mars', 'moon') AND id % 7 = 0");
  std::this_thread::sleep_for(7s);  // the writer goes on while the attach is found and copied
  writer.finish();
  EXPECT_TRUE(wait_equal(db, q)) << "every partition's rows, moved rows once, the attached rows";
  // The attached rows, less those the writer deleted since (its deletes take every region).
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region = 'moon'"),
            db.pg_rows("SELECT count(*) FROM sales WHERE region = 'moon'"));
  EXPECT_GT(std::stoi(db.pg_rows("SELECT count(*) FROM sales_moon")[0][0]), 300);
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxPartitioned, ::testing::Values("key", "row", "key_statement"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
