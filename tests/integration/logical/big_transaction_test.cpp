// One transaction of 1,000,000 changes: flushed in bounded batches while it streams, and the
// slot confirms it only after the last batch is in ClickHouse.
#include <gtest/gtest.h>

#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(LogicalBigTransaction, MillionRowInsertThenMillionRowUpdate) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  auto cfg = make_test_config(db);
  cfg.log.level = "info";
  PipelineRunner runner(cfg);
  const TableQuery q{"SELECT count(*), sum(id), sum(value), sum(length(name)) FROM source_table",
                     "SELECT count(), sum(id), sum(value), sum(length(name)) FROM source_table FINAL WHERE _deleted = 0"};
  // (ClickHouse 18.16 sums an empty Float64 set to NULL, so the empty state compares by count.)
  ASSERT_TRUE(wait_equal(db, {"SELECT count(*) FROM source_table", "SELECT count() FROM source_table"}))
      << "empty snapshot";

  db.pg_exec("INSERT INTO source_table SELECT g, 'row ' || g, g FROM generate_series(1, 1000000) g");
  ASSERT_TRUE(wait_equal(db, q, 180s)) << "1M-row insert";
  db.pg_exec("UPDATE source_table SET value = value * 2, name = name || 'u'");
  const std::string after_update = db.pg_rows("SELECT pg_current_wal_lsn()")[0][0];
  ASSERT_TRUE(wait_equal(db, q, 180s)) << "1M-row update";

  // The slot confirms the transaction once it is in ClickHouse (and not before: see restart tests).
  EXPECT_TRUE(wait_until(
      [&] {
        return db.pg_rows("SELECT confirmed_flush_lsn >= '" + after_update +
                          "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + db.name() + "'") == Rows{{"t"}};
      },
      60s))
      << "confirmed_flush_lsn did not pass " << after_update;
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
