// mode = "outbox": `DETACH PARTITION ... CONCURRENTLY` under concurrent writers. Its first phase
// commits the partition as detach-pending, which pg_partition_tree leaves out at once, while a
// transaction that locked the partitioned table before it goes on writing to the partition
// (through the partitioned table when it is REPEATABLE READ; its events come from the triggers
// cloned to the partition until the second phase, which waits for that transaction). The copy
// request waits for the second phase (capture/shared/attached_partitions.h), so every event of the
// partition is queued before it and exactly the partition's rows leave the target, with both
// payloads.
#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "outbox/outbox_support.h"
#include "support/background_writer.h"
#include "support/partition_changes.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class OutboxDetachConcurrently : public ::testing::TestWithParam<std::string> {};

TEST_P(OutboxDetachConcurrently, RowsWrittenToThePartitionDuringTheDetachLeaveTheTarget) {
  auto db = make_test_database();
  create_sales_in_three_regions(db);
  const auto cfg = outbox_config(db, {"public.sales"}, GetParam());
  outbox_setup(cfg);
  const TableQuery q = same_columns("sales", "id, region, v, n", "id, region");
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "the rows that existed at setup";
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_asia"));
  // Inserts, updates, deletes in eu and us, and moves rows between them.
  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    const std::string n = std::to_string(i);
    c.exec("UPDATE sales SET v = 'u" + n + "', n = n + 1 WHERE id = " + std::to_string(1 + (i * 37) % 1000) +
           " AND region IN ('eu', 'us')");
    c.exec("INSERT INTO sales VALUES (" + std::to_string(10000 + i) + ", '" + (i % 2 == 0 ? "eu" : "us") + "', 'new', " +
           n + ")");
    if (i % 3 == 0) c.exec("DELETE FROM sales WHERE region = 'eu' AND id = " + std::to_string(1 + (i * 53) % 1000));
    if (i % 3 == 1) c.exec("UPDATE sales SET region = 'us', v = 'moved' WHERE id = " + std::to_string(10000 + i - 1));
  });

  ConcurrentDetach detach(db, "sales", "sales_asia",
                          "UPDATE sales SET v = 'before the detach', n = n + 1 WHERE region = 'asia' AND id <= 10");
  ASSERT_TRUE(detach.first_phase_committed());
  std::this_thread::sleep_for(8s);  // longer than a look's interval: looks meanwhile miss the partition
  EXPECT_EQ(detach.finish("INSERT INTO sales VALUES (5000, 'asia', 'during the detach', 0); UPDATE sales SET v = "
                          "'during the detach', n = n + 1 WHERE region = 'asia' AND id BETWEEN 11 AND 20"),
            "");
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM sales_asia"), (Rows{{"1001"}}));
  std::this_thread::sleep_for(1s);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "the detached partition's rows gone, every other row there";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region = 'asia'"), (Rows{{"0"}}));
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// Interrupted in its second phase, the detach leaves the partition detach-pending: its rows stay
// in the target, `status` names the FINALIZE to run, and once it is run they leave.
TEST_P(OutboxDetachConcurrently, AnInterruptedDetachIsNamedByStatusAndItsFinalizeTakesTheRowsOut) {
  auto db = make_test_database();
  create_sales_in_three_regions(db);
  const auto cfg = outbox_config(db, {"public.sales"}, GetParam());
  outbox_setup(cfg);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  const TableQuery q = same_columns("sales", "id, region, v, n", "id, region");
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "the rows that existed at setup";
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_asia"));
  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    c.exec("UPDATE sales SET v = 'u" + std::to_string(i) + "', n = n + 1 WHERE id = " +
           std::to_string(1 + (i * 37) % 1000) + " AND region = 'eu'");
    c.exec("INSERT INTO sales VALUES (" + std::to_string(10000 + i) + ", 'eu', 'new', " + std::to_string(i) + ")");
  });
  ConcurrentDetach detach(db, "sales", "sales_asia",
                          "UPDATE sales SET v = 'before the detach', n = n + 1 WHERE region = 'asia' AND id <= 10");
  ASSERT_TRUE(detach.first_phase_committed());
  EXPECT_NE(detach.interrupt().find("canceling statement"), std::string::npos);
  detach.finish("SELECT 1");  // the older transaction ends; the partition stays pending
  ASSERT_EQ(db.pg_rows("SELECT count(*) FROM pg_inherits WHERE inhdetachpending"), (Rows{{"1"}}));
  const std::string notes = status_notes(pg2ch_status_json(db, config, "status-pending", /*attention_ok=*/true));
  EXPECT_NE(notes.find("partition public.sales_asia of public.sales is being detached concurrently"),
            std::string::npos)
      << notes;
  EXPECT_NE(notes.find("run ALTER TABLE public.sales DETACH PARTITION public.sales_asia FINALIZE"), std::string::npos) << notes;
  std::this_thread::sleep_for(6s);  // a look of the watch: the partition is kept while pending
  // (The 10 rows changed in the older transaction may leave already: the key payload reads a
  // changed row through the table, which no longer shows a detach-pending partition.)
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region = 'asia' AND id > 10"),
            (Rows{{"990"}}))
      << "the rows of a partition still detach-pending stay";
  db.pg_exec("ALTER TABLE sales DETACH PARTITION sales_asia FINALIZE");
  writer.finish();
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "the detached partition's rows gone, every other row there";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region = 'asia'"), (Rows{{"0"}}));
  EXPECT_EQ(status_notes(pg2ch_status_json(db, config, "status-finalized", /*attention_ok=*/true)).find("detached"),
            std::string::npos);
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxDetachConcurrently, ::testing::Values("key", "row"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
