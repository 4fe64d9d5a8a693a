// Columns changed at the source under a running watermark pipeline (poll, notify) and a writer:
// a column added (with and without a default), dropped, renamed, a type widened, NOT NULL
// dropped. Each stops that table only, before a row of the new shape is decoded with the old one
// (it used to stop every table, or leave an added column out without a word), while the other
// table streams on and ends equal; the next start re-creates its target with the new columns,
// reads it again from its first row, and it ends equal to its source, every column.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
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
class WatermarkSchemaChange : public ::testing::TestWithParam<Param> {};

// Every source column but the watermark (whose ClickHouse form differs by flavour), in order.
std::string source_columns(TestDatabase& db) {
  std::string out;
  for (const auto& r : db.pg_rows("SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 "
                                  "AND NOT attisdropped AND attname <> 'updated_at' ORDER BY attnum")) {
    out += (out.empty() ? "" : ", ") + r[0];
  }
  return out;
}

TEST_P(WatermarkSchemaChange, StopsOnlyItsTableAndTheNextStartReadsItAgainWithItsNewColumns) {
  const auto& [mode, index] = GetParam();
  const Change& change = kChanges[index];
  auto db = make_test_database();
  create_updated_at_table(db, "o");
  db.pg_exec("CREATE TABLE t (id serial PRIMARY KEY, n int NOT NULL DEFAULT 0, w int, v text, "
             "updated_at timestamptz NOT NULL DEFAULT clock_timestamp())");
  db.pg_exec("CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch_updated_at()");
  db.pg_exec("INSERT INTO t (n, w, v) SELECT g, g, 'r' || g FROM generate_series(1, 50) g");
  db.pg_exec("INSERT INTO o (v) SELECT 'o' || g FROM generate_series(1, 50) g");
  auto cfg = watermark_config(db, mode, "t", "updated_at");
  config::TableSelector o_table;
  o_table.pattern = "public.o";
  cfg.tables.push_back(o_table);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  if (mode == "notify") capture::capture_mode(mode).setup(cfg);
  const auto o = same_columns("o", "id, v", "id");
  std::unique_ptr<BackgroundWriter> writer;
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table);
  };
  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, same_columns("t", "id, n, w, v", "id")));
    ASSERT_TRUE(wait_until([&] { return state_of("public.t").state == "streaming"; }, 60s));
    // Statements valid before and after every change.
    writer = std::make_unique<BackgroundWriter>(
        db,
        [](pg::Connection& conn, int i) {
          conn.exec("INSERT INTO o (v) VALUES ('w" + std::to_string(i) + "')");
          conn.exec("UPDATE o SET v = v || '+' WHERE id = " + std::to_string(1 + i % 50));
          conn.exec("INSERT INTO t DEFAULT VALUES");
          conn.exec("UPDATE t SET n = n + 1 WHERE id = " + std::to_string(1 + i % 50));
        },
        10ms);
    std::this_thread::sleep_for(300ms);
    db.pg_exec(change.ddl);
    db.pg_exec(change.insert);
    ASSERT_TRUE(wait_until([&] { return state_of("public.t").state == "stopped"; }, 60s)) << runner.describe();
    const auto stopped = state_of("public.t");
    // A NULL can reach the target before the catalog is looked at: refused there, naming it.
    const bool named = stopped.last_error.find("changed at the source") != std::string::npos ||
                       (index == 5 && stopped.last_error.find("NULL in column n") != std::string::npos);
    EXPECT_TRUE(named) << stopped.last_error;
    std::this_thread::sleep_for(500ms);
    writer->finish();
    EXPECT_TRUE(wait_equal(db, o)) << "the other table streams on";
    EXPECT_EQ(state_of("public.o").state, "streaming");
    writer = std::make_unique<BackgroundWriter>(
        db, [](pg::Connection& conn, int i) { conn.exec("INSERT INTO o (v) VALUES ('x" + std::to_string(i) + "')"); },
        10ms);
    EXPECT_FALSE(runner.failed()) << runner.describe();
    runner.stop();
  }

  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return state_of("public.t").state == "streaming"; }, 60s)) << runner.describe();
  db.pg_exec("INSERT INTO t DEFAULT VALUES");
  db.pg_exec("UPDATE t SET n = n + 1 WHERE id = 7");
  std::this_thread::sleep_for(300ms);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, same_columns("t", source_columns(db), "id"))) << runner.describe();
  EXPECT_TRUE(wait_equal(db, o)) << runner.describe();
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Modes, WatermarkSchemaChange,
                         ::testing::Combine(::testing::Values("poll", "notify"), ::testing::Range(0, 6)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return std::get<0>(info.param) + "_" + kChanges[std::get<1>(info.param)].name;
                         });

}  // namespace
}  // namespace pg2ch::test
