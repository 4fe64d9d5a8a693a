// clickhouse.purge_deleted_after: ClickHouse's own merges remove deleted rows (and the versions
// they replace) from parts older than the setting, where the server has CLEANUP merges; a server
// without them is refused with the setting named.
#include <gtest/gtest.h>

#include "support/cli_outcome.h"
#include "support/fixture.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;
constexpr int kConfigExit = 2;  // service/exit_codes.h: configuration

TEST(PurgeDeletedRows, MergesRemoveDeletedRowsOnceTheirPartsAreOldEnough) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 10) g");
  auto cfg = make_test_config(db, {"public.t"});
  cfg.clickhouse.purge_deleted_after_s = 1;
  if (!ch_server().engine) {
    // 18.16 has no CLEANUP merges: setup refuses the setting instead of keeping deleted rows
    // quietly.
    expect_one_line_error(run_setup(db, cfg), {"clickhouse.purge_deleted_after", "purge_deleted_after = 0"},
                          kConfigExit);
    return;
  }
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
  db.pg_exec("DELETE FROM t WHERE id <= 4");
  db.pg_exec("UPDATE t SET v = 'new' WHERE id = 5");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
  // Without FINAL: the stored rows. Deleted keys and replaced versions go once a merge purges them.
  EXPECT_TRUE(wait_until([&] { return db.ch_rows("SELECT count() FROM t")[0][0] == "6"; }, 60s))
      << "stored rows: " << db.ch_rows("SELECT count() FROM t")[0][0];
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t WHERE _deleted = 1"), (Rows{{"0"}}));
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
