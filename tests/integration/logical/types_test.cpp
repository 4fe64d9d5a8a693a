// Every mapped type, through the snapshot and through the stream, compared value by value.
// Each column is compared through an expression that prints the same text on both sides
// (ClickHouse 18.16 stores timestamps as Int64 microseconds; modern servers as DateTime64).
#include <gtest/gtest.h>

#include "support/all_types.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(LogicalTypes, EveryMappedTypeThroughSnapshotAndStream) {
  auto db = make_test_database();
  all_types::create(db);
  db.pg_exec(all_types::kRows);  // copied by the initial snapshot

  const auto caps = db.ch().capabilities();
  const auto q = all_types::query(caps.datetime64, caps.bool_type);
  db.pg_exec("SET intervalstyle = 'iso_8601'");  // the text ClickHouse holds for intervals
  PipelineRunner runner(make_test_config(db));
  ASSERT_TRUE(wait_equal(db, q)) << "snapshot:\n" << q.pg_sql << "\n" << q.ch_sql;

  // The same values again, now through pgoutput (ids 101..105), plus updates and a delete.
  all_types::copy_update_and_delete(db);
  ASSERT_TRUE(wait_equal(db, q)) << "stream";
  runner.stop();
}

// A NaN into a Decimal stops its table with a clear error: LogicalTableStates.

}  // namespace
}  // namespace pg2ch::test
