// Per-table states in the watermark modes (poll and notify): a row whose value the target cannot
// hold stops that table only, while another table keeps streaming under a concurrent writer;
// `status` and the state show it with the key and the fix. The table comes back from its
// checkpoint at the next start: with the value corrected at the source (same config), or with a
// config that maps it (`types = { price = "String" }`: its target is re-created and the table read
// again from its first row), and ends equal row by row.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class WatermarkTableStates : public ::testing::TestWithParam<std::string> {};

std::string state_of(TestDatabase& db, const std::filesystem::path& config, const std::string& table) {
  return status_table_row(pg2ch_status_json(db, config, "status", /*attention_ok=*/true), table).state;
}

TEST_P(WatermarkTableStates, ABadValueStopsOnlyItsTableWhichResumesFromItsCheckpoint) {
  const std::string mode = GetParam();
  auto db = make_test_database();
  create_updated_at_table(db, "other");
  create_prices_table(db);
  db.pg_exec("INSERT INTO prices (price) SELECT g FROM generate_series(1, 50) g");
  db.pg_exec("INSERT INTO other (v) SELECT 'a' || g FROM generate_series(1, 50) g");
  auto cfg = watermark_config(db, mode, "prices", "updated_at");
  config::TableSelector other_table;
  other_table.pattern = "public.other";
  cfg.tables.push_back(other_table);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  if (mode == "notify") capture::capture_mode(mode).setup(cfg);
  const TableQuery prices{"SELECT id, price FROM prices ORDER BY id",
                          "SELECT id, price FROM prices FINAL WHERE _deleted = 0 ORDER BY id"};
  const auto other = same_columns("other", "id, v", "id");

  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, prices));
    ASSERT_TRUE(wait_until([&] { return state_of(db, config_file, "public.prices") == "streaming"; }, 60s));
    auto writer = insert_update_writer(db, "other");
    db.pg_exec("INSERT INTO prices (price) VALUES (51), ('NaN'), (53)");
    ASSERT_TRUE(wait_until([&] { return state_of(db, config_file, "public.prices") == "stopped"; }, 60s));
    db.pg_exec("UPDATE prices SET price = price + 100 WHERE id = 1");  // after the stop: not read in this run
    std::this_thread::sleep_for(500ms);
    writer.finish();
    ASSERT_TRUE(wait_equal(db, other)) << "the other table streams on";
    EXPECT_FALSE(runner.failed()) << runner.describe();

    const auto status = pg2ch_status_json(db, config_file, "status-stopped", true);
    const auto row = status_table_row(status, "public.prices");
    for (const char* needle : {"public.prices", "price", "id=52"}) {
      EXPECT_NE(row.last_error.find(needle), std::string::npos) << "missing '" << needle << "' in " << row.last_error;
    }
    EXPECT_EQ(status_table_row(status, "public.other").state, "streaming");
    ASSERT_EQ(status["attention"].Size(), 1u);
    const std::string attention = status["attention"][0].GetString();
    EXPECT_NE(attention.find(R"(types = { "price" = "String" })"), std::string::npos) << attention;
    EXPECT_NE(attention.find("checkpoint"), std::string::npos) << attention;
    // Nothing of the stopped table after its checkpoint was written, and the update of id 1 is
    // not there yet.
    EXPECT_EQ(db.ch_rows("SELECT count() FROM prices FINAL WHERE id > 52"), (Rows{{"0"}}));
    EXPECT_EQ(db.ch_rows("SELECT price FROM prices FINAL WHERE id = 1"), (Rows{{"1.00"}}));
    runner.stop();
  }

  // The value corrected at the source, config unchanged: read again from its checkpoint.
  db.pg_exec("UPDATE prices SET price = 52 WHERE id = 52");
  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, prices));
    ASSERT_TRUE(wait_until([&] { return state_of(db, config_file, "public.prices") == "streaming"; }, 60s));
    db.pg_exec("INSERT INTO prices (price) VALUES ('NaN')");
    ASSERT_TRUE(wait_until([&] { return state_of(db, config_file, "public.prices") == "stopped"; }, 60s));
    runner.stop();
  }

  // The fix the error names: the column as String.
  config::TableSelector prices_table;
  prices_table.pattern = "public.prices";
  prices_table.types = {{"price", "String"}};
  cfg.tables = {prices_table, other_table};
  const TableQuery prices_as_string{"SELECT id, price::text FROM prices ORDER BY id",
                                    "SELECT id, price FROM prices FINAL WHERE _deleted = 0 ORDER BY id"};
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return state_of(db, write_config_file(cfg, config_file), "public.prices") == "streaming"; },
                         60s));
  db.pg_exec("UPDATE prices SET price = 7 WHERE id = 2");
  db.pg_exec("INSERT INTO other (v) VALUES ('last')");
  // Its target re-created with the new mapping and every row read again.
  ASSERT_TRUE(wait_equal(db, prices_as_string));
  ASSERT_TRUE(wait_equal(db, other));
  runner.stop();
}

// `pg2ch resync` on a running pipeline: the table is emptied and read again from its first row
// at once, so rows deleted at the source (which polling never sees) leave its target, while the
// other table streams on under a concurrent writer.
TEST_P(WatermarkTableStates, ResyncWhileRunningReadsTheTableAgainAtOnce) {
  const std::string mode = GetParam();
  auto db = make_test_database();
  create_updated_at_table(db, "events");
  create_updated_at_table(db, "other");
  db.pg_exec("INSERT INTO events (v) SELECT 'e' || g FROM generate_series(1, 2000) g");
  auto cfg = watermark_config(db, mode, "events", "updated_at");
  cfg.poll.interval = std::chrono::seconds(30);  // the resync must not wait for the fallback poll
  config::TableSelector other_table;
  other_table.pattern = "public.other";
  cfg.tables.push_back(other_table);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  if (mode == "notify") capture::capture_mode(mode).setup(cfg);
  const auto events = same_columns("events", "id, v", "id");
  const auto other = same_columns("other", "id, v", "id");

  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, events));
  db.pg_exec("DELETE FROM events WHERE id % 10 = 0");  // never seen by polling
  ASSERT_FALSE(wait_equal(db, events, 1s));
  auto writer = insert_update_writer(db, "other");
  db.pg_exec("UPDATE events SET v = v || '!' WHERE id % 7 = 0");  // before: read by the resync itself
  auto resync = pg2ch_cli(db, config_file, {"resync", "public.events"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  ASSERT_TRUE(wait_equal(db, events, 20s)) << "read again at once, long before the 30 s fallback poll";
  writer.finish();
  ASSERT_TRUE(wait_equal(db, other));
  EXPECT_EQ(state_of(db, config_file, "public.events"), "streaming");
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Modes, WatermarkTableStates, ::testing::Values("poll", "notify"));

}  // namespace
}  // namespace pg2ch::test
