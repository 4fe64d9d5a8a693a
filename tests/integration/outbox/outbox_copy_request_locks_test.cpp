// mode = "outbox": a copy request (partition_copies.h) copies its partitioned table again while
// the drainer holds its transaction open. A TRUNCATE of another partition during that copy must
// neither wait for the whole copy nor hang it: the copy's plan read the partitions' sizes in the
// drain transaction, which then held a lock on every partition while idle; the TRUNCATE queued
// behind it, the copy's worker reaching that partition queued behind the TRUNCATE, and PostgreSQL
// saw no deadlock to break (a CI shard hung on it for 20 minutes).
#include <gtest/gtest.h>

#include "outbox/outbox_support.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(OutboxCopyRequestLocks, ATruncateOfAnotherPartitionDuringTheCopyGoesThroughAndEndsEqual) {
  auto db = make_test_database();
  // The copy reads leaves by oid: big_a (large, first), then big_m, then big_z.
  db.pg_exec("CREATE TABLE big (id int NOT NULL, region text NOT NULL, v text, PRIMARY KEY (id, region)) "
             "PARTITION BY LIST (region)");
  db.pg_exec("CREATE TABLE big_a PARTITION OF big FOR VALUES IN ('a')");
  db.pg_exec("CREATE TABLE big_m PARTITION OF big FOR VALUES IN ('m')");
  db.pg_exec("CREATE TABLE big_z PARTITION OF big FOR VALUES IN ('z')");
  db.pg_exec("INSERT INTO big SELECT g, 'a', repeat('x', 100) || g FROM generate_series(1, 150000) g");
  db.pg_exec("INSERT INTO big SELECT g, r, 'v' || g FROM generate_series(1, 100) g, unnest(ARRAY['m', 'z']) r");
  auto cfg = outbox_config(db, {"public.big"});
  cfg.logical.snapshot_workers = 1;  // one worker: big_a's ranges, then the others, in order
  cfg.logical.snapshot_range_mb = 4;  // leaf by leaf (one range would read big whole, all leaves locked at once)
  outbox_setup(cfg);
  const auto q = same_columns("big", "id, region, v", "id, region");
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, q, 120s)) << runner.describe();

  db.pg_exec("TRUNCATE big_m");  // a copy request: big is copied again, big_a first
  const auto copying_big_a = [&] {
    return db.pg_rows("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
                      "AND query LIKE 'COPY%big_a%'")[0][0] != "0";
  };
  ASSERT_TRUE(wait_until(copying_big_a, 60s, 10ms)) << runner.describe();
  // Before the fix this waited for the drain transaction, and the copy for it: the lock timeout
  // turns that hang into this test's failure.
  EXPECT_NO_THROW(db.pg_exec("SET lock_timeout = '30s'; TRUNCATE big_z; RESET lock_timeout"))
      << "a TRUNCATE of a partition the copy has not read yet waits for nothing";
  db.pg_exec("INSERT INTO big VALUES (1, 'z', 'after the truncate')");
  EXPECT_TRUE(wait_equal(db, q, 120s)) << runner.describe();
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
