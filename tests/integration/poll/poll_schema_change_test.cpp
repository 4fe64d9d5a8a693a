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

  // t (create_changing_table) with rows 51-60 that no writer touches, then `more_ddl` run, and o;
  // `mode`'s config.
  explicit Fixture(const std::string& mode, bool stop_on_every_change, const std::string& more_ddl = {}) {
    create_updated_at_table(db, "o");
    create_changing_table(db, /*with_updated_at=*/true);
    db.pg_exec("INSERT INTO t (n, w, v) SELECT g, g, 'r' || g FROM generate_series(51, 60) g");
    if (!more_ddl.empty()) db.pg_exec(more_ddl);
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
  // flavour; a column ts, when there, compared as microseconds since 1970 UTC), and o too.
  ::testing::AssertionResult both_equal() {
    std::string columns = live_columns(db, "t", "updated_at");
    TableQuery t = same_columns("t", columns, "id");
    if (const auto at = columns.find(", ts"); at != std::string::npos && at + 4 == columns.size()) {
      columns.erase(at);
      const std::string ch_ts = db.ch().capabilities().datetime64 ? "toUnixTimestamp64Micro(ts)" : "ts";
      t = {"SELECT " + columns + ", (extract(epoch FROM ts) * 1000000)::bigint FROM t ORDER BY id",
           "SELECT " + columns + ", " + ch_ts + " FROM t FINAL WHERE _deleted = 0 ORDER BY id"};
    }
    if (auto equal = wait_equal(db, t); !equal) return equal;
    return wait_equal(db, same_columns("o", "id, v", "id"));
  }

  // The target's newest version of the rows no writer touches: a table read again from its first
  // row gives them new ones.
  std::vector<std::vector<std::string>> untouched_versions() {
    return db.ch_rows("SELECT id, max(_version) FROM t WHERE id BETWEEN 51 AND 60 GROUP BY id ORDER BY id");
  }
  // After a change under writers: both equal, t streaming and not read again from its first row
  // (its untouched rows still have `versions`); the run stops.
  void expect_followed_in_place(PipelineRunner& runner, const std::vector<std::vector<std::string>>& versions) {
    EXPECT_TRUE(both_equal()) << runner.describe();
    const auto t = state_of("public.t");
    EXPECT_EQ(t.state, "streaming") << t.last_error;
    EXPECT_EQ(untouched_versions(), versions) << "t was read again from its first row";
    EXPECT_FALSE(runner.failed()) << runner.describe();
    runner.stop();
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
      f.expect_followed_in_place(runner, versions);
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
    // Whole numbers: a random() below 1e-4 prints with an exponent in PostgreSQL and not in
    // ClickHouse, which the text comparison took for a difference (a 1% flake).
    f.db.pg_exec("ALTER TABLE t ADD COLUMN extra float8 DEFAULT floor(random() * 1000000)");
    f.db.pg_exec("INSERT INTO t (n) VALUES (1)");
    ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "stopped"; }, 60s)) << runner.describe();
    const auto reason = f.state_of("public.t").last_error;
    EXPECT_NE(reason.find("rewritten"), std::string::npos) << reason;
    EXPECT_TRUE(wait_equal(f.db, same_columns("o", "id, v", "id"))) << runner.describe();
    runner.stop();
  }
  f.next_start_reads_it_again();
}

// Fixture's more_ddl: t gains a column ts timestamp, set in every row.
constexpr const char* kTimestampColumn =
    "ALTER TABLE t ADD COLUMN ts timestamp; "
    "UPDATE t SET ts = '2021-03-04 05:06:07.123456'::timestamp + id * interval '1 hour 1.5 second'";

// Every 5 ms, ts of one of t's rows 1-40 moves by a second (a statement valid before and after
// ts becomes timestamptz).
std::unique_ptr<BackgroundWriter> timestamp_writer(TestDatabase& db) {
  return std::make_unique<BackgroundWriter>(
      db,
      [](pg::Connection& conn, int i) {
        conn.exec("UPDATE t SET ts = ts + interval '1 second' WHERE id = " + std::to_string(1 + i % 40));
      },
      std::chrono::milliseconds(5));
}

// ts altered to timestamptz under TimeZone `zone` while writers change t and o; returns t's state.
StatusTableRow alter_to_timestamptz_under_writers(Fixture& f, const std::string& zone) {
  using namespace std::chrono_literals;
  auto writer = writer_of(f.db, "o", /*also_t=*/true);
  auto timestamps = timestamp_writer(f.db);
  std::this_thread::sleep_for(300ms);
  f.db.pg_exec("BEGIN; SET LOCAL TimeZone = '" + zone + "'; ALTER TABLE t ALTER ts TYPE timestamptz; COMMIT");
  f.db.pg_exec("INSERT INTO t (n, ts) VALUES (1, '2022-01-01 10:00:00.5+02')");
  std::this_thread::sleep_for(700ms);
  return f.state_of("public.t");
}

class WatermarkTimestamptz : public ::testing::TestWithParam<std::string> {};

// Under TimeZone UTC PostgreSQL does not rewrite the table (its values are kept, read as UTC):
// followed in place, the untouched rows keep their versions.
TEST_P(WatermarkTimestamptz, AnAlterUnderUtcIsFollowedInPlace) {
  Fixture f(GetParam(), /*stop_on_every_change=*/false, kTimestampColumn);
  PipelineRunner runner(f.cfg);
  ASSERT_TRUE(f.both_equal()) << runner.describe();
  ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
  const auto versions = f.untouched_versions();
  ASSERT_EQ(versions.size(), 10u);
  const auto t = alter_to_timestamptz_under_writers(f, "UTC");
  EXPECT_EQ(t.state, "streaming") << t.last_error;
  f.expect_followed_in_place(runner, versions);
}

INSTANTIATE_TEST_SUITE_P(Modes, WatermarkTimestamptz, ::testing::Values("poll", "notify"));

// Under another zone PostgreSQL rewrote the table, shifting every value already there: the table
// stops with the reason, the other streams on, and the next start reads it again.
TEST(WatermarkTimestamptzRewrite, AnAlterUnderAnotherZoneStopsTheTableAndTheNextStartReadsItAgain) {
  using namespace std::chrono_literals;
  Fixture f("poll", /*stop_on_every_change=*/false, kTimestampColumn);
  {
    PipelineRunner runner(f.cfg);
    ASSERT_TRUE(f.both_equal()) << runner.describe();
    ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
    alter_to_timestamptz_under_writers(f, "Asia/Tokyo");
    ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "stopped"; }, 60s)) << runner.describe();
    const auto reason = f.state_of("public.t").last_error;
    EXPECT_NE(reason.find("timestamp to timestamptz with the table rewritten"), std::string::npos) << reason;
    EXPECT_TRUE(wait_equal(f.db, same_columns("o", "id, v", "id"))) << runner.describe();
    EXPECT_FALSE(runner.failed()) << runner.describe();
    runner.stop();
  }
  f.next_start_reads_it_again();
}

// Several kinds of change between two reads (in one transaction, so no read falls between them):
// a column added with a default, one widened, one dropped, NOT NULL dropped, one renamed (where
// ClickHouse can rename). Followed at once.
class WatermarkSeveralChanges : public ::testing::TestWithParam<std::string> {};

TEST_P(WatermarkSeveralChanges, BetweenTwoReadsAreFollowedAtOnce) {
  using namespace std::chrono_literals;
  Fixture f(GetParam(), /*stop_on_every_change=*/false,
            "ALTER TABLE t ADD COLUMN s varchar(10); UPDATE t SET s = 's' || id");
  PipelineRunner runner(f.cfg);
  ASSERT_TRUE(f.both_equal()) << runner.describe();
  ASSERT_TRUE(wait_until([&] { return f.state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
  const auto versions = f.untouched_versions();
  ASSERT_EQ(versions.size(), 10u);
  {
    auto writer = writer_of(f.db, "o", /*also_t=*/true);
    std::this_thread::sleep_for(300ms);
    // A rename too where ClickHouse can rename a column (20.4 and later).
    f.db.pg_exec(std::string("BEGIN; ALTER TABLE t ADD COLUMN extra int DEFAULT 7; ALTER TABLE t ALTER s TYPE "
                             "varchar(100); ALTER TABLE t DROP COLUMN w; ALTER TABLE t ALTER n DROP NOT NULL; ") +
                 (clickhouse_can_rename(f.db) ? "ALTER TABLE t RENAME v TO v2; " : "") + "COMMIT");
    f.db.pg_exec("INSERT INTO t (n, s, extra) VALUES (NULL, repeat('x', 60), 8)");
    std::this_thread::sleep_for(700ms);
  }
  f.expect_followed_in_place(runner, versions);
}

INSTANTIATE_TEST_SUITE_P(Modes, WatermarkSeveralChanges, ::testing::Values("poll", "notify"));

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
