// Columns changed at the source under a running outbox pipeline and a writer: a column added
// (with and without a default), dropped, renamed, a type widened, NOT NULL dropped. With the key
// payload each is followed in place (capture/outbox/outbox_drainer.h: the target altered before an
// event is decoded with the new shape, the table's events fetched with its new columns): the table
// streams on and ends equal to its source, every column, while the other table streams on too.
// With the row payload (and a rename on ClickHouse before 20.4) each stops that table only, before
// an event is decoded with the old shape, its events stay queued, and the other table streams on
// and ends equal. The fix the status names (drop the target, delete the table's queued events,
// `pg2ch resync`, restart) copies it again with its new columns and it ends equal to its source,
// every column.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "outbox/outbox_support.h"
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

TEST_P(OutboxSchemaChange, FollowsItInPlaceWithTheKeyPayloadElseStopsOnlyItsTable) {
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

  const bool follows = payload == "key" && (std::string(kColumnChanges[change].name) != "RenameColumn" ||
                                            clickhouse_can_rename(db));
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

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxSchemaChange,
                         ::testing::Combine(::testing::Values("key", "row"), ::testing::Range(0, kColumnChangeCount)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return column_change_test_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

}  // namespace
}  // namespace pg2ch::test
