// DETACH and DROP of a partition while the pipeline streams (capture/logical/partition_watch.h):
// the partition's rows leave the partitioned table without a change in the stream, so the watch
// copies the table again once the stream has passed the DETACH; with a writer changing the
// partition's rows right up to it, the target ends equal to the partitioned table, without them.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/background_writer.h"
#include "support/child_process.h"
#include "support/partition_changes.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// m: LIST (region) → m_us | m_eu | m_jp, 2000 rows each.
void create_regions(TestDatabase& db) {
  db.pg_exec("CREATE TABLE m (id int NOT NULL, region text NOT NULL, n int NOT NULL, PRIMARY KEY (id, region)) "
             "PARTITION BY LIST (region)");
  for (const std::string r : {"us", "eu", "jp"}) db.pg_exec("CREATE TABLE m_" + r + " PARTITION OF m FOR VALUES IN ('" + r + "')");
  db.pg_exec("INSERT INTO m SELECT g, (ARRAY['us', 'eu', 'jp'])[1 + g % 3], 0 FROM generate_series(1, 6000) g");
}

// A writer step that changes only m_eu's rows (updates, and inserts from id 10000 on).
void change_eu(pg::Connection& c, int i) {
  c.exec("UPDATE m SET n = n + 1 WHERE region = 'eu' AND id % 50 = " + std::to_string(i % 50));
  c.exec("INSERT INTO m VALUES (" + std::to_string(10000 + i) + ", 'eu', " + std::to_string(i) + ")");
}

TEST(LogicalPartitionDetach, RowsOfADetachedOrDroppedPartitionLeaveTheTarget) {
  auto db = make_test_database();
  create_regions(db);
  PipelineRunner runner(make_test_config(db));
  runner.wait_ready();
  const auto m = same_columns("m", "id, region, n", "id, region");

  // Every region's rows change until the DETACH / DROP, the partition's included (through m while
  // attached; an UPDATE of m then no longer reaches them).
  const auto change_around = [&](const std::string& statement) {
    BackgroundWriter writer(db, [](pg::Connection& c, int i) {
      c.exec("UPDATE m SET n = n + 1 WHERE id % 50 = " + std::to_string(i % 50));
      c.exec("INSERT INTO m VALUES (" + std::to_string(10000 + i) + ", 'eu', " + std::to_string(i) + ")");
    }, 1ms);
    std::this_thread::sleep_for(2s);
    db.pg_exec(statement);
    std::this_thread::sleep_for(1s);
  };
  change_around("ALTER TABLE m DETACH PARTITION m_us");
  EXPECT_TRUE(wait_equal(db, m, 90s));
  EXPECT_EQ(db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region = 'us'"), (Rows{{"0"}}));
  db.pg_exec("DELETE FROM m WHERE id >= 10000");  // a fresh key range for the second writer
  change_around("DROP TABLE m_jp");
  EXPECT_TRUE(wait_equal(db, m, 90s));
  EXPECT_EQ(db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region IN ('us', 'jp')"), (Rows{{"0"}}));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// DETACH ... CONCURRENTLY: from its first phase the partition is out of pg_partition_tree, yet a
// REPEATABLE READ transaction that locked m before it goes on changing the partition's rows
// through m, and those changes stream (decoded with the partition still in m) until the second
// phase, which waits for that transaction. The copy comes once the partition is gone for good.
TEST(LogicalPartitionDetach, RowsChangedThroughTheTableDuringAConcurrentDetachLeaveTheTarget) {
  auto db = make_test_database();
  create_regions(db);
  const auto cfg = make_test_config(db);
  PipelineRunner runner(cfg);
  runner.wait_ready();
  const auto m = same_columns("m", "id, region, n", "id, region");
  ASSERT_TRUE(wait_equal(db, m));
  // The watch's first look knows m_us (one after the first phase would not: it starts from what it sees).
  ASSERT_TRUE(wait_partition_recorded(cfg, "m", "m_us", 30s, "leaves"));
  BackgroundWriter writer(db, change_eu, 1ms);

  ConcurrentDetach detach(db, "m", "m_us", "UPDATE m SET n = n + 1 WHERE region = 'us' AND id <= 30");
  ASSERT_TRUE(detach.first_phase_committed());
  std::this_thread::sleep_for(8s);  // looks meanwhile miss the partition
  EXPECT_EQ(detach.finish("INSERT INTO m VALUES (50000, 'us', 0); "
                          "UPDATE m SET n = n + 100 WHERE region = 'us' AND id BETWEEN 31 AND 90"),
            "");
  std::this_thread::sleep_for(1s);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, m, 90s)) << "the detached partition's rows gone, every other row there";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region = 'us'"), (Rows{{"0"}}));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// A DETACH ... CONCURRENTLY interrupted in its second phase leaves the partition detach-pending:
// out of the partitioned table for new snapshots, its rows still in the target. `status` names it
// with the FINALIZE to run (a note: it may be a detach still in progress); once it is run, the
// partition's rows leave the target.
TEST(LogicalPartitionDetach, AnInterruptedConcurrentDetachIsNamedByStatusAndItsFinalizeTakesTheRowsOut) {
  auto db = make_test_database();
  create_regions(db);
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  const auto m = same_columns("m", "id, region, n", "id, region");
  ASSERT_TRUE(wait_equal(db, m));
  ASSERT_TRUE(wait_partition_recorded(cfg, "m", "m_us", 30s, "leaves"));
  BackgroundWriter writer(db, change_eu, 1ms);
  ConcurrentDetach detach(db, "m", "m_us", "UPDATE m SET n = n + 1 WHERE region = 'us' AND id <= 30");
  ASSERT_TRUE(detach.first_phase_committed());
  EXPECT_NE(detach.interrupt().find("canceling statement"), std::string::npos);
  detach.finish("SELECT 1");  // the older transaction ends; the partition stays pending
  ASSERT_EQ(db.pg_rows("SELECT count(*) FROM pg_inherits WHERE inhdetachpending"), (Rows{{"1"}}));
  const std::string notes = status_notes(pg2ch_status_json(db, config, "status-pending", /*attention_ok=*/true));
  EXPECT_NE(notes.find("partition public.m_us of public.m is being detached concurrently"), std::string::npos) << notes;
  EXPECT_NE(notes.find("run ALTER TABLE public.m DETACH PARTITION public.m_us FINALIZE"), std::string::npos) << notes;
  std::this_thread::sleep_for(4s);  // a look of the watch: the partition is kept while pending
  EXPECT_EQ(db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region = 'us'"), (Rows{{"2000"}}))
      << "the rows of a partition still detach-pending stay";
  db.pg_exec("ALTER TABLE m DETACH PARTITION m_us FINALIZE");
  writer.finish();
  EXPECT_TRUE(wait_equal(db, m, 90s)) << "the detached partition's rows gone, every other row there";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region = 'us'"), (Rows{{"0"}}));
  EXPECT_EQ(status_notes(pg2ch_status_json(db, config, "status-finalized", /*attention_ok=*/true)).find("detached"),
            std::string::npos);
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// While pg2ch is not running: the leaf partitions it saw last are in its state, so the first look
// after the start finds the detached and the dropped one gone and copies the table again.
TEST(LogicalPartitionDetach, PartitionsDetachedOrDroppedWhilePg2chWasStoppedLeaveTheTarget) {
  auto db = make_test_database();
  create_regions(db);
  const auto cfg = make_test_config(db, {"public.m"});
  const auto m = same_columns("m", "id, region, n", "id, region");
  {
    PipelineRunner runner(cfg);
    runner.wait_ready();
    EXPECT_TRUE(wait_equal(db, m));
    std::this_thread::sleep_for(4s);  // a look of the watch: the partitions are remembered
    runner.stop();
  }
  db.pg_exec("UPDATE m SET n = n + 1 WHERE id % 7 = 0");  // changes of all partitions, before the DETACH
  db.pg_exec("ALTER TABLE m DETACH PARTITION m_us");
  db.pg_exec("DROP TABLE m_jp");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  EXPECT_TRUE(wait_equal(db, m, 90s));
  EXPECT_EQ(db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region IN ('us', 'jp')"), (Rows{{"0"}}));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// Between the initial copy and the watch's first look: a DETACH issued during a long copy waits
// for the copy's locks and commits right after it, before the first look. pg2ch dies there
// (PG2CH_CRASH_AT "copy_done", as a SIGKILL would), the partitions are detached and dropped, and
// the next start's first look must still know them: the partitions are recorded before the copy's
// snapshot. Before, a first look with nothing recorded only recorded what it saw, and the rows of
// the partitions gone stayed in the target for good.
TEST(LogicalPartitionDetach, PartitionsGoneBeforeTheFirstLookAfterTheInitialCopyLeaveTheTarget) {
  auto db = make_test_database();
  create_regions(db);
  const auto cfg = make_test_config(db, {"public.m"});
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  const auto m = same_columns("m", "id, region, n", "id, region");
  auto cut = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "run"}, .env = {{"PG2CH_CRASH_AT", "copy_done"}}, .dir = db.dir(),
       .log_prefix = "cut"});
  ASSERT_EQ(cut.wait(60s), std::optional<int>(137)) << "did not die after the initial copy: " << cut.describe();
  ASSERT_EQ(db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region = 'us'"), (Rows{{"2000"}}));
  db.pg_exec("UPDATE m SET n = n + 1 WHERE id % 7 = 0");
  db.pg_exec("ALTER TABLE m DETACH PARTITION m_us");
  db.pg_exec("DROP TABLE m_jp");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  BackgroundWriter writer(db, change_eu, 1ms);
  std::this_thread::sleep_for(6s);  // two looks of the watch
  writer.finish();
  EXPECT_TRUE(wait_equal(db, m, 60s)) << "the rows of the partitions gone are still in the target";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region IN ('us', 'jp')"), (Rows{{"0"}}));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
