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

TEST(LogicalTypes, NumericNaNIntoDecimalStopsWithAClearError) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE prices (id int PRIMARY KEY, price numeric(10,2))");
  db.pg_exec("INSERT INTO prices VALUES (1, 1.5)");
  PipelineRunner runner(make_test_config(db));
  runner.expect_failure();
  ASSERT_TRUE(wait_equal(db, {"SELECT id, price FROM prices ORDER BY id",
                             "SELECT id, toString(price) FROM prices FINAL ORDER BY id"}));
  db.pg_exec("INSERT INTO prices VALUES (2, 'NaN')");
  ASSERT_TRUE(wait_until([&] { return runner.failed(); }, 30s)) << "a NaN numeric cannot become a Decimal";
  try {
    runner.stop();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.one_line();
    EXPECT_NE(msg.find("price"), std::string::npos) << msg;
    EXPECT_NE(msg.find("public.prices"), std::string::npos) << msg;
    EXPECT_NE(msg.find("String"), std::string::npos) << msg;
  }
  // Nothing after the bad row was acknowledged: the slot still holds the transaction.
  EXPECT_EQ(db.ch_rows("SELECT count() FROM prices FINAL WHERE id = 2"), (Rows{{"0"}}));
}

}  // namespace
}  // namespace pg2ch::test
