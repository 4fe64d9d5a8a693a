// ClickHouse refusing one table's rows in the watermark modes (poll, notify): its target changed
// by hand under a running pipeline (a column dropped) stops that table only, while another table
// keeps streaming under a concurrent writer and ends equal; status says why and how back. Once
// the target is mended (the column added again, `pg2ch resync` because the drop took its values),
// the next start reads the table again and it ends equal row by row. (Without the resync the start
// reads it again from its checkpoint, which is before the refused rows: they were never durable.)
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

class WatermarkRefusedInsert : public ::testing::TestWithParam<std::string> {};

TEST_P(WatermarkRefusedInsert, ATargetThatRefusesRowsStopsOnlyItsTable) {
  const std::string mode = GetParam();
  auto db = make_test_database();
  create_updated_at_table(db, "a");
  create_updated_at_table(db, "b");
  db.pg_exec("INSERT INTO a (v) SELECT 'a' || g FROM generate_series(1, 50) g");
  db.pg_exec("INSERT INTO b (v) SELECT 'b' || g FROM generate_series(1, 50) g");
  auto cfg = watermark_config(db, mode, "a", "updated_at");
  config::TableSelector b_table;
  b_table.pattern = "public.b";
  cfg.tables.push_back(b_table);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  if (mode == "notify") capture::capture_mode(mode).setup(cfg);
  const auto a = same_columns("a", "id, v", "id");
  const auto b = same_columns("b", "id, v", "id");
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table);
  };

  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, a));
    ASSERT_TRUE(wait_equal(db, b));
    ASSERT_TRUE(wait_until([&] { return state_of("public.a").state == "streaming"; }, 60s));
    ASSERT_TRUE(refuse_rows_until_stopped(db, config_file, runner));
    const auto status = pg2ch_status_json(db, config_file, "status-stopped", true);
    ASSERT_EQ(status["attention"].Size(), 1u);
    const std::string attention = status["attention"][0].GetString();
    EXPECT_NE(attention.find("checkpoint"), std::string::npos) << attention;
    runner.stop();
  }

  // Mended by hand (the dropped column's values are gone from the target, so the table is read
  // again from its first row: `pg2ch resync`); the other table streams on from its checkpoint.
  db.ch_exec("ALTER TABLE a ADD COLUMN v Nullable(String) AFTER id");
  auto resync = pg2ch_cli(db, config_file, {"resync", "public.a"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  PipelineRunner runner(cfg);
  BackgroundWriter writer(
      db,
      [](pg::Connection& conn, int i) {
        conn.exec("INSERT INTO a (v) VALUES ('x" + std::to_string(i) + "')");
        conn.exec("INSERT INTO b (v) VALUES ('y" + std::to_string(i) + "')");
      },
      5ms);
  ASSERT_TRUE(wait_until([&] { return state_of("public.a").state == "streaming"; }, 60s)) << runner.describe();
  std::this_thread::sleep_for(500ms);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, a)) << runner.describe();
  EXPECT_TRUE(wait_equal(db, b)) << runner.describe();
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Modes, WatermarkRefusedInsert, ::testing::Values("poll", "notify"));

}  // namespace
}  // namespace pg2ch::test
