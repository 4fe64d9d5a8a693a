// Columns changed at the source under a running watermark pipeline (poll, notify) and a writer:
// a column added (with and without a default), dropped, renamed, a type widened, NOT NULL
// dropped. Each is followed in place (capture/poll/poll_engine.h: the target altered and its view
// re-created before a row of the new shape is decoded): the table streams on, is not read again
// from its first row (rows nobody touched keep their version), and ends equal to its source, every
// column, while the other table streams on too. On ClickHouse before 20.4, which cannot rename a
// column, a rename stops that table only, and the next start reads it again with its new columns.
// With logical.on_* = "stop" every kind stops its table only, and the next start re-creates its
// target with the new columns and reads it again from its first row.
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

struct Fixture {
  TestDatabase db = make_test_database();
  config::Config cfg;
  std::filesystem::path config_file;

  // t (create_changing_table) with rows 51-60 that no writer touches, and o; `mode`'s config.
  explicit Fixture(const std::string& mode, bool stop_on_every_change) {
    create_updated_at_table(db, "o");
    create_changing_table(db, /*with_updated_at=*/true);
    db.pg_exec("INSERT INTO t (n, w, v) SELECT g, g, 'r' || g FROM generate_series(51, 60) g");
    db.pg_exec("INSERT INTO o (v) SELECT 'o' || g FROM generate_series(1, 50) g");
    cfg = watermark_config(db, mode, "t", "updated_at");
    config::TableSelector o_table;
    o_table.pattern = "public.o";
    cfg.tables.push_back(o_table);
    if (stop_on_every_change) {
      cfg.logical.on_column_added = cfg.logical.on_type_widened = cfg.logical.on_not_null_dropped =
          cfg.logical.on_column_dropped = cfg.logical.on_column_renamed = "stop";
    }
    config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
    if (mode == "notify") capture::capture_mode(mode).setup(cfg);
  }
  StatusTableRow state_of(const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table);
  }
  // t equal to its source, every column but the watermark (whose ClickHouse form differs by
  // flavour), and o too.
  ::testing::AssertionResult both_equal() {
    if (auto t = wait_equal(db, same_columns("t", live_columns(db, "t", "updated_at"), "id")); !t) return t;
    return wait_equal(db, same_columns("o", "id, v", "id"));
  }
  // The target's newest version of the rows no writer touches: a table read again from its first
  // row gives them new ones.
  std::vector<std::vector<std::string>> untouched_versions() {
    return db.ch_rows("SELECT id, max(_version) FROM t WHERE id BETWEEN 51 AND 60 GROUP BY id ORDER BY id");
  }
  // After t stopped for a change and the run ended: the next start re-creates its target with
  // the new columns and reads it again from its first row, under a writer, and both end equal.
  void next_start_reads_it_again() {
    using namespace std::chrono_literals;
    auto writer = writer_of(db, "o", /*also_t=*/true);
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_until([&] { return state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
    std::this_thread::sleep_for(300ms);
    writer->finish();
    EXPECT_TRUE(both_equal()) << runner.describe();
    EXPECT_FALSE(runner.failed()) << runner.describe();
    runner.stop();
  }
};

class WatermarkSchemaChange : public ::testing::TestWithParam<Param> {};

TEST_P(WatermarkSchemaChange, FollowsItInPlaceAndTheTableStreamsOn) {
  const auto& [mode, change] = GetParam();
  Fixture f(mode, /*stop_on_every_change=*/false);
  const bool stops = std::string(kColumnChanges[change].name) == "RenameColumn" && !clickhouse_can_rename(f.db);
  {
    PipelineRunner runner(f.cfg);
    ASSERT_TRUE(f.both_equal()) << runner.describe();
    ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
    const auto versions = f.untouched_versions();
    ASSERT_EQ(versions.size(), 10u);
    if (stops) {
      ASSERT_TRUE(change_until_stopped(f.db, f.config_file, runner, change, "o"));
      EXPECT_NE(f.state_of("public.t").last_error.find("RENAME COLUMN needs 20.4"), std::string::npos);
      runner.stop();
    } else {
      {
        auto writer = writer_of(f.db, "o", /*also_t=*/true);
        std::this_thread::sleep_for(300ms);
        f.db.pg_exec(kColumnChanges[change].ddl);
        f.db.pg_exec(kColumnChanges[change].insert);
        std::this_thread::sleep_for(500ms);
      }
      EXPECT_TRUE(f.both_equal()) << runner.describe();
      const auto t = f.state_of("public.t");
      EXPECT_EQ(t.state, "streaming") << t.last_error;
      EXPECT_EQ(f.untouched_versions(), versions) << "t was read again from its first row";
      EXPECT_FALSE(runner.failed()) << runner.describe();
      runner.stop();
      return;
    }
  }
  f.next_start_reads_it_again();
}

INSTANTIATE_TEST_SUITE_P(Modes, WatermarkSchemaChange,
                         ::testing::Combine(::testing::Values("poll", "notify"), ::testing::Range(0, kColumnChangeCount)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return column_change_test_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

// The same changes made while pg2ch is stopped, under a writer that goes on across the restart:
// the next start compares the catalog with the table's recorded columns and follows the change in
// place (capture/table_sync/offline_changes.h), so the table is not read again from its first row
// (rows nobody touched keep their version) and ends equal to its source, every column. A rename
// on ClickHouse before 20.4 cannot be followed: its target is re-created and the table read again
// with its new columns (before, the start failed: its target did not match).
class WatermarkSchemaChangeWhileStopped : public ::testing::TestWithParam<Param> {};

TEST_P(WatermarkSchemaChangeWhileStopped, TheNextStartFollowsItInPlace) {
  const auto& [mode, change] = GetParam();
  Fixture f(mode, /*stop_on_every_change=*/false);
  const bool read_again = std::string(kColumnChanges[change].name) == "RenameColumn" && !clickhouse_can_rename(f.db);
  std::vector<std::vector<std::string>> versions;
  {
    PipelineRunner runner(f.cfg);
    ASSERT_TRUE(f.both_equal()) << runner.describe();
    ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
    versions = f.untouched_versions();
    ASSERT_EQ(versions.size(), 10u);
    runner.stop();
  }
  auto writer = writer_of(f.db, "o", /*also_t=*/true);
  std::this_thread::sleep_for(200ms);
  f.db.pg_exec(kColumnChanges[change].ddl);
  f.db.pg_exec(kColumnChanges[change].insert);
  PipelineRunner runner(f.cfg);
  ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
  std::this_thread::sleep_for(500ms);
  writer->finish();
  ASSERT_TRUE(wait_target_has(f.db, "t", live_columns(f.db, "t", "updated_at"))) << runner.describe();
  EXPECT_TRUE(f.both_equal()) << runner.describe();
  if (!read_again) {
    EXPECT_EQ(f.untouched_versions(), versions) << "t was read again from its first row";
  }
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Modes, WatermarkSchemaChangeWhileStopped,
                         ::testing::Combine(::testing::Values("poll", "notify"), ::testing::Range(0, kColumnChangeCount)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return column_change_test_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

// A column added with a volatile default rewrites the table: every row already there got a value
// of its own, which no target DEFAULT can give the rows not read again. The table stops, naming
// that, and the next start reads it again from its first row into a re-created target.
TEST(WatermarkSchemaChangeRewrite, AVolatileDefaultStopsTheTableAndTheNextStartReadsItAgain) {
  using namespace std::chrono_literals;
  Fixture f("poll", /*stop_on_every_change=*/false);
  {
    PipelineRunner runner(f.cfg);
    ASSERT_TRUE(f.both_equal()) << runner.describe();
    ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
    f.db.pg_exec("ALTER TABLE t ADD COLUMN extra float8 DEFAULT random()");
    f.db.pg_exec("INSERT INTO t (n) VALUES (1)");
    ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "stopped"; }, 60s)) << runner.describe();
    const auto reason = f.state_of("public.t").last_error;
    EXPECT_NE(reason.find("rewritten"), std::string::npos) << reason;
    EXPECT_TRUE(wait_equal(f.db, same_columns("o", "id, v", "id"))) << runner.describe();
    runner.stop();
  }
  f.next_start_reads_it_again();
}

class WatermarkSchemaChangeStop : public ::testing::TestWithParam<int> {};

TEST_P(WatermarkSchemaChangeStop, StopsOnlyItsTableAndTheNextStartReadsItAgainWithItsNewColumns) {
  const int change = GetParam();
  Fixture f("poll", /*stop_on_every_change=*/true);
  {
    PipelineRunner runner(f.cfg);
    ASSERT_TRUE(f.both_equal()) << runner.describe();
    ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "streaming"; }, 60s));
    ASSERT_TRUE(change_until_stopped(f.db, f.config_file, runner, change, "o"));
    const auto reason = f.state_of("public.t").last_error;
    if (std::string(kColumnChanges[change].name) != "DropNotNull") {
      EXPECT_NE(reason.find("is \"stop\""), std::string::npos) << reason;
    }
    runner.stop();
  }
  f.next_start_reads_it_again();
}

INSTANTIATE_TEST_SUITE_P(EveryKind, WatermarkSchemaChangeStop, ::testing::Range(0, kColumnChangeCount),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return column_change_test_name("poll", info.param);
                         });

}  // namespace
}  // namespace pg2ch::test
