// Columns changed at the source under a running outbox pipeline and a writer: a column added
// (with and without a default), dropped, renamed, a type widened, NOT NULL dropped. Each stops
// that table only, before an event is decoded with the old shape (a drop, rename or widening used
// to stop every table; an added column was left out without a word), its events stay queued, and
// the other table streams on and ends equal. The fix the status names (drop the target, delete
// the table's queued events, `pg2ch resync`, restart) copies it again with its new columns and it
// ends equal to its source, every column, for both payloads.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "outbox/outbox_support.h"
#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

struct Change {
  const char* name;
  const char* ddl;
  const char* insert;  // a row of the new shape
};

const Change kChanges[] = {
    {"AddColumn", "ALTER TABLE t ADD COLUMN extra int", "INSERT INTO t (n, extra) VALUES (1, 5)"},
    {"AddColumnWithDefault", "ALTER TABLE t ADD COLUMN extra int DEFAULT 7", "INSERT INTO t (n) VALUES (1)"},
    {"DropColumn", "ALTER TABLE t DROP COLUMN w", "INSERT INTO t (n, v) VALUES (1, 'x')"},
    {"RenameColumn", "ALTER TABLE t RENAME COLUMN v TO v2", "INSERT INTO t (n, v2) VALUES (1, 'x')"},
    {"WidenIntToBigint", "ALTER TABLE t ALTER COLUMN w TYPE bigint", "INSERT INTO t (n, w) VALUES (1, 5000000000)"},
    {"DropNotNull", "ALTER TABLE t ALTER COLUMN n DROP NOT NULL", "INSERT INTO t (n) VALUES (NULL)"},
};

using Param = std::tuple<std::string, int>;
class OutboxSchemaChange : public ::testing::TestWithParam<Param> {};

std::string source_columns(TestDatabase& db) {
  std::string out;
  for (const auto& r : db.pg_rows("SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 "
                                  "AND NOT attisdropped ORDER BY attnum")) {
    out += (out.empty() ? "" : ", ") + r[0];
  }
  return out;
}

TEST_P(OutboxSchemaChange, StopsOnlyItsTableAndTheFixCopiesItAgainWithItsNewColumns) {
  const auto& [payload, index] = GetParam();
  const Change& change = kChanges[index];
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id serial PRIMARY KEY, n int NOT NULL DEFAULT 0, w int, v text)");
  db.pg_exec("CREATE TABLE o (id serial PRIMARY KEY, v text)");
  const auto cfg = outbox_config(db, {"public.t", "public.o"}, payload);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO t (n, w, v) SELECT g, g, 'r' || g FROM generate_series(1, 50) g");
  db.pg_exec("INSERT INTO o (v) SELECT 'o' || g FROM generate_series(1, 50) g");
  const auto o = same_columns("o", "id, v", "id");
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table);
  };
  auto writer = [&](bool touch_t) {
    return std::make_unique<BackgroundWriter>(
        db,
        [touch_t](pg::Connection& conn, int i) {
          conn.exec("INSERT INTO o (v) VALUES ('w" + std::to_string(i) + "')");
          conn.exec("UPDATE o SET v = v || '+' WHERE id = " + std::to_string(1 + i % 50));
          if (!touch_t) return;
          conn.exec("INSERT INTO t DEFAULT VALUES");  // valid before and after every change
          conn.exec("UPDATE t SET n = n + 1 WHERE id = " + std::to_string(1 + i % 50));
        },
        10ms);
  };

  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, same_columns("t", "id, n, w, v", "id")));
    auto w = writer(true);
    std::this_thread::sleep_for(300ms);
    db.pg_exec(change.ddl);
    db.pg_exec(change.insert);
    ASSERT_TRUE(wait_until([&] { return state_of("public.t").state == "stopped"; }, 60s)) << runner.describe();
    std::this_thread::sleep_for(500ms);
    w->finish();
    const auto stopped = state_of("public.t");
    // A NULL can reach the target before the catalog is looked at: refused there, naming it.
    const bool named = stopped.last_error.find("changed at the source") != std::string::npos ||
                       (index == 5 && stopped.last_error.find("NULL in column n") != std::string::npos);
    EXPECT_TRUE(named) << stopped.last_error;
    EXPECT_TRUE(wait_equal(db, o)) << "the other table streams on";
    EXPECT_EQ(state_of("public.o").state, "streaming");
    EXPECT_FALSE(runner.failed()) << runner.describe();
    runner.stop();
  }

  // The fix: drop the target, delete the queued events, resync, restart.
  auto w = writer(true);
  db.ch_exec("DROP TABLE t");
  db.pg_exec(fmt::format("DELETE FROM {}.{} WHERE rel = 't'::regclass", cfg.outbox.schema, cfg.outbox.table));
  auto resync = pg2ch_cli(db, config_file, {"resync", "public.t"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
  std::this_thread::sleep_for(500ms);
  w->finish();
  EXPECT_TRUE(wait_equal(db, same_columns("t", source_columns(db), "id"))) << runner.describe();
  EXPECT_TRUE(wait_equal(db, o)) << runner.describe();
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxSchemaChange,
                         ::testing::Combine(::testing::Values("key", "row"), ::testing::Range(0, 6)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return std::get<0>(info.param) + "_" + kChanges[std::get<1>(info.param)].name;
                         });

}  // namespace
}  // namespace pg2ch::test
