// The widenings beyond int -> bigint (OutboxSchemaChange) under the outbox row payload, with a
// writer changing every column of the table while the ALTER happens: smallint -> int,
// varchar(n) -> text, numeric precision up, real -> double precision and timestamp -> timestamptz
// (under TimeZone UTC, where the table is not rewritten) are followed in place and the table ends
// equal to its source, every column, while the other table streams on. The events queued before
// are read from the table where their values would not read the same as the wider type (a real's
// shortest text reads as another double; a timestamp's text has no zone): their rows carry the
// mark of the old columns (capture/outbox/row_payload_follow.h). The fix path (drop the target,
// resync, restart) stays tested for a table stopped by another change (OutboxDdlUnderWriter).
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

struct Widening {
  const char* name;
  const char* ddl;
  const char* insert;  // a row only the wider type holds
  bool follows;
  const char* refusal = "";  // when it does not: what the stopped table's error says
};

constexpr Widening kWidenings[] = {
    {"SmallintToInt", "ALTER TABLE wt ALTER COLUMN s TYPE int", "INSERT INTO wt (s) VALUES (100000)", true},
    {"VarcharToText", "ALTER TABLE wt ALTER COLUMN c TYPE text", "INSERT INTO wt (c) VALUES (repeat('y', 30))", true},
    {"NumericPrecisionUp", "ALTER TABLE wt ALTER COLUMN d TYPE numeric(14,2)",
     "INSERT INTO wt (d) VALUES (123456789012.34)", true},
    {"RealToDouble", "ALTER TABLE wt ALTER COLUMN f TYPE double precision", "INSERT INTO wt (f) VALUES (0.3)", true},
    {"TimestampToTimestamptz", "SET TimeZone = 'UTC'; ALTER TABLE wt ALTER COLUMN ts TYPE timestamptz",
     "INSERT INTO wt (ts) VALUES ('2024-06-01 12:00:00+02')", true},
};

class OutboxRowPayloadWidening : public ::testing::TestWithParam<int> {};

// Every 5 ms: a row into o and one of its first 50 updated; with `also_wt` the same for wt, every
// column, by statements valid before and after each widening.
std::unique_ptr<BackgroundWriter> widening_writer(TestDatabase& db, bool also_wt) {
  return std::make_unique<BackgroundWriter>(
      db,
      [also_wt](pg::Connection& conn, int i) {
        conn.exec(fmt::format("INSERT INTO o (v) VALUES ('w{}')", i));
        conn.exec(fmt::format("UPDATE o SET v = v || '+' WHERE id = {}", 1 + i % 50));
        if (!also_wt) return;
        conn.exec(fmt::format("INSERT INTO wt (s, f, c, d) VALUES ({0} % 300, {0} * 0.1, 'c' || {0}, {0} * 0.01)", i));
        conn.exec(fmt::format(
            "UPDATE wt SET s = s + 1, f = f + 0.1, c = left(c || 'x', 10), d = d + 0.01 WHERE id = {}", 1 + i % 50));
      },
      5ms);
}

TEST_P(OutboxRowPayloadWidening, FollowsWhatReadsTheSameElseStopsOnlyItsTable) {
  const Widening& w = kWidenings[GetParam()];
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE wt (id serial PRIMARY KEY, s smallint, f real, c varchar(10), d numeric(8,2), ts timestamp)");
  db.pg_exec(
      "INSERT INTO wt (s, f, c, d, ts) SELECT g, g * 0.1, 'r' || g, g * 0.01, '2024-01-01'::timestamp + g * interval "
      "'1 hour' FROM generate_series(1, 50) g");
  db.pg_exec("CREATE TABLE o (id serial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO o (v) SELECT 'o' || g FROM generate_series(1, 50) g");
  const auto cfg = outbox_config(db, {"public.wt", "public.o"}, "row");
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  // ts as microseconds since the epoch (a timestamp read as UTC, which the session is for the
  // ALTER); ClickHouse before DateTime64 holds them as such.
  db.pg_exec("SET TimeZone = 'UTC'");
  const std::string ts = db.ch().capabilities().datetime64 ? "toUnixTimestamp64Micro(ts)" : "ts";
  const TableQuery wt{
      "SELECT id, s, f, c, d, coalesce((extract(epoch from ts) * 1000000)::bigint, -1) FROM wt ORDER BY id",
      "SELECT id, s, f, c, d, ifNull(toInt64(" + ts + "), -1) FROM wt FINAL WHERE _deleted = 0 ORDER BY id"};
  const auto o = same_columns("o", "id, v", "id");
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table);
  };

  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, wt)) << runner.describe();
    {
      auto writer = widening_writer(db, w.follows);
      std::this_thread::sleep_for(300ms);
      db.pg_exec(w.ddl);
      db.pg_exec(w.insert);
      if (!w.follows) {
        EXPECT_TRUE(wait_until([&] { return state_of("public.wt").state == "stopped"; }, 60s)) << runner.describe();
      }
      std::this_thread::sleep_for(500ms);
    }
    EXPECT_TRUE(wait_equal(db, o)) << runner.describe();
    EXPECT_EQ(state_of("public.o").state, "streaming");
    EXPECT_FALSE(runner.failed()) << runner.describe();
    const auto t = state_of("public.wt");
    if (w.follows) {
      EXPECT_TRUE(wait_equal(db, wt)) << runner.describe();
      EXPECT_EQ(t.state, "streaming") << t.last_error;
      runner.stop();
      return;
    }
    EXPECT_NE(t.last_error.find(w.refusal), std::string::npos) << t.last_error;
    runner.stop();
  }

  // The fix: drop the target, delete the queued events, resync, restart.
  db.ch_exec("DROP TABLE wt");
  db.pg_exec(fmt::format("DELETE FROM {}.{} WHERE rel = 'wt'::regclass", cfg.outbox.schema, cfg.outbox.table));
  auto resync = pg2ch_cli(db, config_file, {"resync", "public.wt"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return state_of("public.wt").state == "streaming"; }, 60s)) << runner.describe();
  {
    auto writer = widening_writer(db, true);  // a new session: its trigger plans are made for double
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_TRUE(wait_equal(db, wt)) << runner.describe();
  EXPECT_TRUE(wait_equal(db, o)) << runner.describe();
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Kinds, OutboxRowPayloadWidening, ::testing::Range(0, static_cast<int>(std::size(kWidenings))),
                         [](const ::testing::TestParamInfo<int>& info) { return std::string(kWidenings[info.param].name); });

}  // namespace
}  // namespace pg2ch::test
