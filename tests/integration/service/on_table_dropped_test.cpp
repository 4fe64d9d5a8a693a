// logical.on_table_dropped = "drop" (capture/shared/dropped_table.h) in the modes that follow a
// table's drop while running (logical, poll, notify): a table dropped at the source has its
// target and view dropped and is forgotten (no state, not in status), while the other table
// streams on under a concurrent writer and ends equal row by row; a table dropped and created
// again under its name keeps the target, which the new table's rows take over. The default,
// "keep", is tested by LogicalNewTables and PollTableGone.
#include <gtest/gtest.h>

#include <thread>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "state/open_state_store.h"
#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class OnTableDropped : public ::testing::TestWithParam<std::string> {};

// Tables `table` and other, 200 rows each, and a config for every table of schema public whose
// dropped tables' targets are dropped.
config::Config drop_setup(TestDatabase& db, const std::string& mode, const std::string& table) {
  for (const std::string& t : {table, std::string("other")}) {
    create_updated_at_table(db, t);
    db.pg_exec("INSERT INTO " + t + " (v) SELECT 'v' || g FROM generate_series(1, 200) g");
  }
  auto cfg = mode == "logical" ? make_test_config(db, {"public.*"}) : watermark_config(db, mode, "*", "updated_at");
  cfg.logical.on_table_dropped = "drop";
  return cfg;
}

TEST_P(OnTableDropped, ADroppedTablesTargetGoesWhileTheOtherStreams) {
  const std::string mode = GetParam();
  auto db = make_test_database();
  const auto cfg = drop_setup(db, mode, "gone");
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  if (mode == "notify") capture::capture_mode(mode).setup(cfg);
  const auto gone = same_columns("gone", "id, v", "id");
  const auto other = same_columns("other", "id, v", "id");
  const auto recorded_phase = [&] {
    return state::open_state_store(cfg)->get("table \"public\".\"gone\" phase");
  };

  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, gone));
  ASSERT_TRUE(wait_equal(db, other));
  ASSERT_TRUE(recorded_phase().has_value());
  auto writer = insert_update_writer(db, "other");
  db.pg_exec("INSERT INTO gone (v) VALUES ('just before the drop')");
  db.pg_exec("DROP TABLE gone");
  ASSERT_TRUE(wait_until([&] { return db.ch_rows("EXISTS TABLE gone") == Rows{{"0"}}; }, 60s)) << runner.describe();
  EXPECT_EQ(db.ch_rows("EXISTS TABLE gone__current"), (Rows{{"0"}}));
  std::this_thread::sleep_for(500ms);
  writer.finish();
  ASSERT_TRUE(wait_equal(db, other)) << "the other table streams on";
  EXPECT_EQ(db.ch_rows("EXISTS TABLE gone"), (Rows{{"0"}})) << "nothing created it again";
  EXPECT_EQ(recorded_phase(), std::nullopt) << "its state is forgotten";
  const auto status = pg2ch_status_json(db, config_file, "status");
  EXPECT_EQ(status_table_row(status, "public.gone").state, "(not listed)");
  EXPECT_EQ(status_table_row(status, "public.other").state, "streaming");
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// Dropped and created again in one transaction: the name is taken when pg2ch looks, so the drop
// is not certain to be for good, and the target stays for the new table.
TEST_P(OnTableDropped, ATableCreatedAgainUnderItsNameKeepsTheTarget) {
  const std::string mode = GetParam();
  auto db = make_test_database();
  const auto cfg = drop_setup(db, mode, "again");
  if (mode == "notify") capture::capture_mode(mode).setup(cfg);
  const auto again = same_columns("again", "id, v", "id");
  const auto other = same_columns("other", "id, v", "id");

  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, again));
  auto writer = insert_update_writer(db, "other");
  db.pg_exec("BEGIN; DROP TABLE again; CREATE TABLE again (id bigserial PRIMARY KEY, v text, updated_at "
             "timestamptz NOT NULL DEFAULT now()); CREATE TRIGGER again_touch BEFORE UPDATE ON again FOR EACH ROW "
             "EXECUTE FUNCTION touch_updated_at(); INSERT INTO again (v) SELECT 'new' || g FROM "
             "generate_series(1, 50) g; COMMIT");
  if (mode == "logical") {
    // The new one is copied into the emptied target while running.
    ASSERT_TRUE(wait_equal(db, again)) << runner.describe();
  } else {
    // The old one stops as with "keep" (the new one is the next start's), its target kept.
    ASSERT_TRUE(wait_until(
        [&] { return state::open_state_store(cfg)->get("table \"public\".\"again\" phase") == "stopped"; }, 60s))
        << runner.describe();
  }
  writer.finish();
  ASSERT_TRUE(wait_equal(db, other));
  EXPECT_EQ(db.ch_rows("EXISTS TABLE again"), (Rows{{"1"}}));
  EXPECT_EQ(db.ch_rows("EXISTS TABLE again__current"), (Rows{{"1"}}));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Modes, OnTableDropped, ::testing::Values("logical", "poll", "notify"));

}  // namespace
}  // namespace pg2ch::test
