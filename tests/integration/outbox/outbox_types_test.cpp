// Every mapped type through the outbox, value by value. With payload = row each value makes a
// JSON round trip (to_jsonb in the trigger, jsonb_populate_record in the drainer), so the awkward
// values are here on purpose: NaN/±Infinity and -0 floats, extreme floats, NaN numerics, json
// text with odd spacing and duplicate keys, json `null`, 2-D arrays, BC-free dates and
// microsecond timestamps, intervals, money, and writers with unusual session settings.
#include <gtest/gtest.h>

#include "outbox/outbox_support.h"
#include "support/all_types.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class OutboxTypes : public ::testing::TestWithParam<std::string> {};

TEST_P(OutboxTypes, EveryMappedTypeArrivesExactly) {
  auto db = make_test_database();
  all_types::create(db);
  const auto cfg = outbox_config(db, {"public.all_types"}, GetParam());
  outbox_setup(cfg);
  // A writer whose session settings would print values differently than the drainer reads them.
  db.pg_exec("SET extra_float_digits = -3");
  db.pg_exec("SET intervalstyle = 'sql_standard'");
  db.pg_exec("SET bytea_output = 'escape'");
  db.pg_exec("SET timezone = 'Asia/Kathmandu'");
  db.pg_exec(all_types::kRows);
  db.pg_exec("RESET ALL");

  const auto caps = db.ch().capabilities();
  auto q = all_types::query(caps.datetime64, caps.bool_type);
  db.pg_exec("SET intervalstyle = 'iso_8601'");  // the text ClickHouse holds for intervals
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "inserts:\n" << q.pg_sql << "\n" << q.ch_sql;

  all_types::copy_update_and_delete(db);
  ASSERT_TRUE(wait_equal(db, q)) << "copies and updates";
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(OutboxPayload, OutboxTypes, ::testing::Values("key", "row", "row_statement"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
