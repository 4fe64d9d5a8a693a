// Columns changed at the source under a running watermark pipeline (poll, notify) and a writer:
// a column added (with and without a default), dropped, renamed, a type widened, NOT NULL
// dropped. Each stops that table only, before a row of the new shape is decoded with the old one
// (it used to stop every table, or leave an added column out without a word), while the other
// table streams on and ends equal; the next start re-creates its target with the new columns,
// reads it again from its first row, and it ends equal to its source, every column.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "support/column_changes.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

using Param = std::tuple<std::string, int>;
class WatermarkSchemaChange : public ::testing::TestWithParam<Param> {};

TEST_P(WatermarkSchemaChange, StopsOnlyItsTableAndTheNextStartReadsItAgainWithItsNewColumns) {
  const auto& [mode, change] = GetParam();
  auto db = make_test_database();
  create_updated_at_table(db, "o");
  create_changing_table(db, /*with_updated_at=*/true);
  db.pg_exec("INSERT INTO o (v) SELECT 'o' || g FROM generate_series(1, 50) g");
  auto cfg = watermark_config(db, mode, "t", "updated_at");
  config::TableSelector o_table;
  o_table.pattern = "public.o";
  cfg.tables.push_back(o_table);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  if (mode == "notify") capture::capture_mode(mode).setup(cfg);
  const auto o = same_columns("o", "id, v", "id");
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table);
  };

  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, same_columns("t", "id, n, w, v", "id")));
    ASSERT_TRUE(wait_until([&] { return state_of("public.t").state == "streaming"; }, 60s));
    ASSERT_TRUE(change_until_stopped(db, config_file, runner, change, "o"));
    runner.stop();
  }

  auto writer = writer_of(db, "o", /*also_t=*/true);
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
  std::this_thread::sleep_for(300ms);
  writer->finish();
  // Every column but the watermark, whose ClickHouse form differs by flavour.
  EXPECT_TRUE(wait_equal(db, same_columns("t", live_columns(db, "t", "updated_at"), "id"))) << runner.describe();
  EXPECT_TRUE(wait_equal(db, o)) << runner.describe();
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Modes, WatermarkSchemaChange,
                         ::testing::Combine(::testing::Values("poll", "notify"), ::testing::Range(0, kColumnChangeCount)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return column_change_test_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

}  // namespace
}  // namespace pg2ch::test
