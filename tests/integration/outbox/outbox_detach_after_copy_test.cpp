// mode = "outbox": partitions detached or dropped between the copy of the rows that exist at
// setup and the partition watch's first look (capture/shared/attached_partitions.h). A DETACH
// issued during a long copy waits for the copy's locks and commits right after it, before that
// look. pg2ch dies there (PG2CH_CRASH_AT "copy_done", as a SIGKILL would), a partition is detached
// and another dropped, and the next start must still queue the copy that takes their rows out:
// the partitions are recorded before the copy's snapshot. Before, a first look with nothing
// recorded only recorded what it saw, and those rows stayed in the target for good.
#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "outbox/outbox_support.h"
#include "support/background_writer.h"
#include "support/child_process.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class OutboxDetachAfterCopy : public ::testing::TestWithParam<std::string> {};

TEST_P(OutboxDetachAfterCopy, PartitionsGoneBeforeTheFirstLookLeaveTheTarget) {
  auto db = make_test_database();
  create_sales_in_three_regions(db);
  const auto cfg = outbox_config(db, {"public.sales"}, GetParam());
  outbox_setup(cfg);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto cut = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "run"}, .env = {{"PG2CH_CRASH_AT", "copy_done"}}, .dir = db.dir(),
       .log_prefix = "cut"});
  ASSERT_EQ(cut.wait(60s), std::optional<int>(137)) << "did not die after the copy: " << cut.describe();
  ASSERT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region = 'asia'"), (Rows{{"1000"}}));
  db.pg_exec("UPDATE sales SET n = n + 1 WHERE id % 7 = 0");
  db.pg_exec("ALTER TABLE sales DETACH PARTITION sales_asia");
  db.pg_exec("DROP TABLE sales_us_1");
  const TableQuery q = same_columns("sales", "id, region, v, n", "id, region");
  PipelineRunner runner(cfg);
  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    const std::string n = std::to_string(i);
    c.exec("UPDATE sales SET v = 'u" + n + "', n = n + 1 WHERE id = " + std::to_string(1 + (i * 37) % 1000) +
           " AND region = 'eu'");
    c.exec("INSERT INTO sales VALUES (" + std::to_string(10000 + i) + ", 'eu', 'new', " + n + ")");
  });
  std::this_thread::sleep_for(12s);  // two looks of the watch, whichever turn the copy takes
  writer.finish();
  EXPECT_TRUE(wait_equal(db, q, 60s)) << "the rows of the partitions gone are still in the target";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region = 'asia'"), (Rows{{"0"}}));
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxDetachAfterCopy, ::testing::Values("key", "row"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
