// A table copied again with rows unchanged since its first copy gets them all: ClickHouse keeps
// the hashes of the blocks it took (Replicated tables; others with non_replicated_deduplication_window,
// which pg2ch sets on 22.2+ for exactly-once batches) past a TRUNCATE, and a copy that sent the
// same blocks again would be dropped as a repeat. Copies are sent with insert_deduplicate = 0.
#include <gtest/gtest.h>

#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(CopyAgain, UnchangedRowsCopiedAgainAfterAResyncAreAllThere) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g");
  const auto cfg = make_test_config(db, {"public.t"});
  const auto q = same_columns("t", "id, v", "id");
  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, q));
    runner.stop();
  }
  auto resync = pg2ch_cli(db, write_config_file(cfg, db.dir() / "pg2ch.toml"), {"resync", "public.t"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  PipelineRunner runner(cfg);
  runner.wait_ready();
  EXPECT_TRUE(wait_equal(db, q));
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t"), Rows{{"1000"}}) << "the copied rows are not all in the target";
}

}  // namespace
}  // namespace pg2ch::test
