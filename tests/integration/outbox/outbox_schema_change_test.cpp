// Columns changed at the source under a running outbox pipeline and a writer: a column added
// (with and without a default), dropped, renamed, a type widened, NOT NULL dropped. With either
// payload each is followed in place (capture/outbox/outbox_drainer.h: the target altered before an
// event is decoded with the new shape; the key payload fetches its events with the new columns,
// the row payload reads the events queued before the change with the table's columns as they are
// now: row_payload_follow.h): the table streams on and ends equal to its source, every column,
// while the other table streams on too. A rename on ClickHouse before 20.4 stops that table only,
// before an event is decoded with the old shape, its events stay queued, and the other table
// streams on and ends equal. The fix the status names (drop the target, delete the table's queued
// events, `pg2ch resync`, restart) copies it again with its new columns and it ends equal to its
// source, every column. OutboxRowPayloadWidening: the other widenings under the row payload
// (smallint, varchar, numeric followed; real -> double stops the table with the reason).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "outbox/outbox_support.h"
#include "support/background_writer.h"
#include "support/column_changes.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

using Param = std::tuple<std::string, int>;
class OutboxSchemaChange : public ::testing::TestWithParam<Param> {};

TEST_P(OutboxSchemaChange, FollowsItInPlaceElseStopsOnlyItsTable) {
  const auto& [payload, change] = GetParam();
  auto db = make_test_database();
  create_changing_table(db, /*with_updated_at=*/false);
  db.pg_exec("CREATE TABLE o (id serial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO o (v) SELECT 'o' || g FROM generate_series(1, 50) g");
  const auto cfg = outbox_config(db, {"public.t", "public.o"}, payload);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  const auto o = same_columns("o", "id, v", "id");
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table);
  };

  const bool follows = std::string(kColumnChanges[change].name) != "RenameColumn" || clickhouse_can_rename(db);
  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, same_columns("t", "id, n, w, v", "id")));
    if (follows) {
      {
        auto writer = writer_of(db, "o", /*also_t=*/true);
        std::this_thread::sleep_for(300ms);
        db.pg_exec(kColumnChanges[change].ddl);
        db.pg_exec(kColumnChanges[change].insert);
        std::this_thread::sleep_for(500ms);
      }
      EXPECT_TRUE(wait_equal(db, same_columns("t", live_columns(db, "t"), "id"))) << runner.describe();
      EXPECT_TRUE(wait_equal(db, o)) << runner.describe();
      const auto t = state_of("public.t");
      EXPECT_EQ(t.state, "streaming") << t.last_error;
      EXPECT_FALSE(runner.failed()) << runner.describe();
      runner.stop();
      return;
    }
    ASSERT_TRUE(change_until_stopped(db, config_file, runner, change, "o"));
    runner.stop();
  }

  // The fix: drop the target, delete the queued events, resync, restart.
  auto writer = writer_of(db, "o", /*also_t=*/true);
  db.ch_exec("DROP TABLE t");
  db.pg_exec(fmt::format("DELETE FROM {}.{} WHERE rel = 't'::regclass", cfg.outbox.schema, cfg.outbox.table));
  auto resync = pg2ch_cli(db, config_file, {"resync", "public.t"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
  std::this_thread::sleep_for(500ms);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, same_columns("t", live_columns(db, "t"), "id"))) << runner.describe();
  EXPECT_TRUE(wait_equal(db, o)) << runner.describe();
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// The same changes made while pg2ch is stopped, under a writer that goes on across the restart:
// the next start compares the catalog with the table's recorded columns and follows the change in
// place (capture/logical/offline_changes.h), the events queued meanwhile are drained with it, and
// the table is not copied again (rows nobody touched keep their version): it ends equal to its
// source, every column. A rename on ClickHouse before 20.4 cannot be followed: the table is copied
// again into a re-created target and ends equal too.
class OutboxSchemaChangeWhileStopped : public ::testing::TestWithParam<Param> {};

TEST_P(OutboxSchemaChangeWhileStopped, TheNextStartFollowsItInPlace) {
  const auto& [payload, change] = GetParam();
  auto db = make_test_database();
  create_changing_table(db, /*with_updated_at=*/false);
  db.pg_exec("INSERT INTO t (n, w, v) SELECT g, g, 'r' || g FROM generate_series(51, 61) g");  // no writer's
  db.pg_exec("CREATE TABLE o (id serial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO o (v) SELECT 'o' || g FROM generate_series(1, 50) g");
  const auto cfg = outbox_config(db, {"public.t", "public.o"}, payload);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  const bool copied_again = std::string(kColumnChanges[change].name) == "RenameColumn" && !clickhouse_can_rename(db);
  const auto untouched_versions = [&] {
    return db.ch_rows("SELECT id, max(_version) FROM t WHERE id BETWEEN 51 AND 60 GROUP BY id ORDER BY id");
  };
  std::vector<std::vector<std::string>> versions;
  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, same_columns("t", "id, n, w, v", "id"))) << runner.describe();
    // Copied and recorded streaming: a stop during the copy leaves it to be copied again.
    ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config_file, "public.t") == "streaming "; }, 60s))
        << runner.describe();
    versions = untouched_versions();
    ASSERT_EQ(versions.size(), 10u);
    runner.stop();
  }
  // Row 61's only event after the copy is of the old shape: queued when the start copies the
  // table again (18.16 cannot rename), it must not be applied over the copy (it lacks v2).
  db.pg_exec("UPDATE t SET n = n + 1 WHERE id = 61");
  auto writer = writer_of(db, "o", /*also_t=*/true);
  std::this_thread::sleep_for(200ms);
  db.pg_exec(kColumnChanges[change].ddl);
  db.pg_exec(kColumnChanges[change].insert);
  PipelineRunner runner(cfg);
  std::this_thread::sleep_for(500ms);
  writer->finish();
  ASSERT_TRUE(wait_target_has(db, "t", live_columns(db, "t"))) << runner.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("t", live_columns(db, "t"), "id"))) << runner.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("o", "id, v", "id"))) << runner.describe();
  const auto t = status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), "public.t");
  EXPECT_EQ(t.state, "streaming") << t.last_error;
  if (!copied_again) {
    EXPECT_EQ(untouched_versions(), versions) << "t was copied again";
  }
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// Under the row payload the functions name float and json columns: one renamed and one dropped
// while pg2ch was stopped. The start follows both, replaces the functions itself (before, it
// refused to run: "installed for another outbox.payload ...", until `pg2ch setup`) and ends equal,
// with -0 and a json text kept exactly.
TEST(OutboxFunctionsBehindTheColumns, AreReplacedAtStartWithoutSetup) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE f (id serial PRIMARY KEY, x float8, j json, v text)");
  db.pg_exec("INSERT INTO f (x, j, v) SELECT g, '{\"a\":  1}', 'r' || g FROM generate_series(1, 50) g");
  const auto cfg = outbox_config(db, {"public.f"}, "row");
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  {
    PipelineRunner runner(cfg);
    const TableQuery all{"SELECT id, x, j::text, v FROM f ORDER BY id",
                         "SELECT id, x, j, v FROM f FINAL WHERE _deleted = 0 ORDER BY id"};
    ASSERT_TRUE(wait_equal(db, all)) << runner.describe();
    runner.stop();
  }
  BackgroundWriter writer(
      db,
      [](pg::Connection& conn, int i) {
        conn.exec("INSERT INTO f (v) VALUES ('w" + std::to_string(i) + "')");
        conn.exec("UPDATE f SET v = v || '+' WHERE id = " + std::to_string(1 + i % 50));
      },
      std::chrono::milliseconds(5));
  std::this_thread::sleep_for(200ms);
  db.pg_exec("ALTER TABLE f RENAME COLUMN x TO x2");
  db.pg_exec("ALTER TABLE f DROP COLUMN j");
  db.pg_exec("INSERT INTO f (x2, v) VALUES ('-0', 'negative zero')");
  std::this_thread::sleep_for(200ms);
  writer.finish();

  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_target_has(db, "f", "id, x2, v")) << runner.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("f", "id, x2, v", "id"))) << runner.describe();
  db.pg_exec("INSERT INTO f (x2, v) VALUES ('-0', 'after the start')");
  EXPECT_TRUE(wait_equal(db, same_columns("f", "id, x2, v", "id"))) << runner.describe();
  const auto bodies = db.pg_rows(
      "SELECT count(*) FILTER (WHERE prosrc LIKE '%x2%'), count(*) FILTER (WHERE prosrc LIKE '%\"x\"%') FROM pg_proc "
      "p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'pg2ch' AND p.proname LIKE '%\\_ins'");
  EXPECT_EQ(bodies, (Rows{{"1", "0"}})) << "the insert function names x2 now, and x no more";
  EXPECT_EQ(status_table_row(pg2ch_status_json(db, config_file, "status"), "public.f").state, "streaming");
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxSchemaChangeWhileStopped,
                         ::testing::Combine(::testing::Values("key", "row"), ::testing::Range(0, kColumnChangeCount)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return column_change_test_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxSchemaChange,
                         ::testing::Combine(::testing::Values("key", "row"), ::testing::Range(0, kColumnChangeCount)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return column_change_test_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

}  // namespace
}  // namespace pg2ch::test
