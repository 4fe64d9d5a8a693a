// Issue 12: pg2ch's outbox triggers must never make the application's writes or migrations fail.
// A writer session (the same connection throughout, so its trigger functions' plans are cached,
// and with extra_float_digits and intervalstyle lowered as a client may) inserts, updates and
// deletes rows of d every few milliseconds while another session drops, renames or retypes d's
// float, json, jsonb, key or excluded column, or adds a float, json, jsonb, interval, money or
// excluded column, under both payloads. An added column's values come from its default and from
// an UPDATE in the ALTER's own transaction (so certainly through the trigger functions installed
// before, which pg2ch cannot replace before the ALTER commits): -0, 0.1, a float that prints
// rounded under the lowered setting, JSON null next to SQL NULL, nested and oddly spaced json,
// mixed-sign intervals. The ALTER itself must succeed (a trigger definition naming a column made
// PostgreSQL refuse `ALTER COLUMN id TYPE bigint`), the writer must never get an error (trigger
// bodies naming a dropped or renamed column failed every INSERT and UPDATE, a retyped one failed
// sessions with a cached plan), and the excluded columns' values never enter the events table.
// Then either the change is followed in place (the table streams on and ends equal to its source,
// every column, row for row; pg2ch replaced the table's trigger functions, so a restart needs no
// `pg2ch setup`) or the table stops with the change in its reason, its events queued,
// and the fix its status names (drop the target, delete its events, resync, restart) ends equal.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
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

// ConfigRefuses: the config names the column (its exclude list), which is gone: the table cannot be
// described any more, so it stops with its events queued (and `status` says what to fix).
enum class Outcome { Follows, Stops, FollowsIfRename, ConfigRefuses };

struct Ddl {
  const char* name;
  const char* sql;
  Outcome key_payload;
  Outcome row_payload;
  // Run after the ALTER in its transaction: through the trigger functions installed before it.
  const char* then = "";
  // The config lists d's columns in include (a column added is then left out) instead of
  // excluding secret.
  bool include_list = false;
};

constexpr Ddl kDdls[] = {
    {"DropFloat", "ALTER TABLE d DROP COLUMN f", Outcome::Follows, Outcome::Follows},
    {"RenameFloat", "ALTER TABLE d RENAME COLUMN f TO f2", Outcome::FollowsIfRename, Outcome::FollowsIfRename},
    // real -> double precision: the events queued before are read from the table (row_payload_follow.h).
    {"WidenFloat", "ALTER TABLE d ALTER COLUMN f TYPE double precision", Outcome::Follows, Outcome::Follows,
     "SET LOCAL extra_float_digits = -3; UPDATE d SET f = (CASE id % 3 WHEN 0 THEN '-0' WHEN 1 THEN "
     "'0.30000000000000004' ELSE '0.1' END)::float8"},
    {"DropJson", "ALTER TABLE d DROP COLUMN j", Outcome::Follows, Outcome::Follows},
    {"RenameJsonb", "ALTER TABLE d RENAME COLUMN b TO b2", Outcome::FollowsIfRename, Outcome::FollowsIfRename},
    // A sorting-key column: ClickHouse can neither rename nor retype it.
    {"RenameKey", "ALTER TABLE d RENAME COLUMN id TO id2", Outcome::Stops, Outcome::Stops},
    {"WidenKey", "ALTER TABLE d ALTER COLUMN id TYPE bigint", Outcome::Stops, Outcome::Stops},
    // Until pg2ch replaces them, the row payload's installed functions write the column added as
    // to_jsonb() does (or leave it out, under an include list): their rows are read from the table
    // (outbox_sql.h row_mark).
    {"AddJson", "ALTER TABLE d ADD COLUMN k json DEFAULT '{\"k\" :1}'", Outcome::Follows, Outcome::Follows,
     "UPDATE d SET k = (CASE id % 3 WHEN 0 THEN 'null' WHEN 1 THEN '{\"a\": {\"b\" : [1, {\"c\": null}]}, "
     "\"a\":2}' END)::json"},
    {"AddJsonb", "ALTER TABLE d ADD COLUMN x jsonb DEFAULT 'null'", Outcome::Follows, Outcome::Follows,
     "UPDATE d SET x = (CASE id % 3 WHEN 0 THEN '{\"a\": {\"b\": [1, {\"c\": null}], \"d\": 1.50}}' WHEN 1 THEN "
     "NULL ELSE 'null' END)::jsonb"},
    {"AddDouble", "ALTER TABLE d ADD COLUMN x double precision DEFAULT '-0'", Outcome::Follows, Outcome::Follows,
     "SET LOCAL extra_float_digits = -3; UPDATE d SET x = (CASE id % 4 WHEN 0 THEN '-0' WHEN 1 THEN '0.1' WHEN 2 "
     "THEN '0.30000000000000004' END)::float8"},
    {"AddReal", "ALTER TABLE d ADD COLUMN x real DEFAULT '-0'", Outcome::Follows, Outcome::Follows,
     "SET LOCAL extra_float_digits = -3; UPDATE d SET x = (CASE id % 4 WHEN 0 THEN '-0' WHEN 1 THEN '0.1' WHEN 2 "
     "THEN '1.0000001' END)::real"},
    {"AddInterval", "ALTER TABLE d ADD COLUMN x interval DEFAULT '-1 days +02:03:04.5'", Outcome::Follows,
     Outcome::Follows,
     "SET LOCAL intervalstyle = 'sql_standard'; UPDATE d SET x = (CASE id % 3 WHEN 0 THEN '1 year -2 mons 3 days "
     "-04:05:06.789' WHEN 1 THEN '-1 days +00:00:01' END)::interval"},
    {"AddMoney", "ALTER TABLE d ADD COLUMN x money DEFAULT '12.34'", Outcome::Follows, Outcome::Follows,
     "UPDATE d SET x = CASE id % 3 WHEN 0 THEN '-0.01'::money WHEN 1 THEN '92233720368547758.07'::money END"},
    // Left out by the include list: its values must never enter the events table.
    {"AddExcluded", "ALTER TABLE d ADD COLUMN secret2 text DEFAULT 's3cr3t'", Outcome::Follows, Outcome::Follows,
     "UPDATE d SET secret2 = 's3cr3t' || id", /*include_list=*/true},
    {"RenameExcluded", "ALTER TABLE d RENAME COLUMN secret TO hidden", Outcome::ConfigRefuses,
     Outcome::ConfigRefuses},
};

using Param = std::tuple<std::string, int>;
class OutboxDdlUnderWriter : public ::testing::TestWithParam<Param> {};

// Writes through d's triggers on one session; statements name only n and v, which no DDL here
// touches, so any error is the triggers'. Errors are collected, not thrown (the writer's thread).
class Writer {
 public:
  // Its rows get n = first + 1, first + 2, ...: each writer its own, so n orders the rows.
  Writer(TestDatabase& db, int first)
      : writer_(db,
                [this, first](pg::Connection& conn, int i) {
                  // As a client may: the trigger functions must not write what these change.
                  if (i == 0) conn.exec("SET extra_float_digits = -3; SET intervalstyle = 'sql_standard'");
                  for (const auto& sql : {fmt::format("INSERT INTO d (n, v) VALUES ({}, 'w{}')", first + i, i),
                                          fmt::format("UPDATE d SET v = v || '+' WHERE n = {}", 1 + i % 60),
                                          fmt::format("DELETE FROM d WHERE n = {}", first + i - 30)}) {
                    try {
                      conn.exec(sql);
                    } catch (const std::exception& e) {
                      std::lock_guard lock(mutex_);
                      errors_.push_back(sql + ": " + e.what());
                    }
                  }
                },
                3ms) {}
  void finish() { writer_.finish(); }
  std::vector<std::string> errors() {
    std::lock_guard lock(mutex_);
    return errors_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> errors_;
  BackgroundWriter writer_;  // last: stopped before the members its thread uses go
};

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size() && i < 5; ++i) out += "\n  " + lines[i];
  return out;
}

TEST_P(OutboxDdlUnderWriter, NeverFailsTheApplicationsWritesAndEndsEqual) {
  const auto& [payload, index] = GetParam();
  const Ddl& ddl = kDdls[index];
  auto db = make_test_database();
  // Values to_jsonb() would not keep: -0, json text with odd spacing and a duplicate key, JSON
  // null next to SQL NULL; the writer's rows get them from the defaults.
  db.pg_exec(
      "CREATE TABLE d (id serial PRIMARY KEY, n int, f real DEFAULT '-0', j json DEFAULT '{\"a\" :1,\"a\":2}', b "
      "jsonb DEFAULT 'null', secret text DEFAULT 's3cr3t', v text)");
  db.pg_exec(
      "INSERT INTO d (n, f, j, b, v) SELECT g, CASE g % 3 WHEN 0 THEN '-0' WHEN 1 THEN NULL ELSE g * 0.5 END, CASE g "
      "% 3 WHEN 0 THEN '{\"a\" :1,\"a\":2}' WHEN 1 THEN 'null' END::json, CASE g % 3 WHEN 0 THEN 'null' WHEN 1 THEN "
      "NULL ELSE '[1,  2]' END::jsonb, 'r' || g FROM generate_series(1, 60) g");
  db.pg_exec("SET intervalstyle = 'iso_8601'");  // the text ClickHouse holds for intervals
  auto cfg = outbox_config(db, {"public.d"}, payload);
  if (ddl.include_list) {
    cfg.tables[0].include = {"id", "n", "f", "j", "b", "v"};
  } else {
    cfg.tables[0].exclude = {"secret"};
  }
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  const auto state_of = [&] {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), "public.d");
  };
  // Every column but the excluded ones, whatever its name now (money as cents, its ClickHouse form).
  const auto replicated = [&] {
    std::string pg, ch;
    for (const auto& r : db.pg_rows("SELECT attname, atttypid = 'money'::regtype FROM pg_attribute WHERE attrelid = "
                                    "'d'::regclass AND attnum > 0 AND NOT attisdropped AND attname NOT IN ('secret', "
                                    "'hidden', 'secret2') ORDER BY attnum")) {
      pg += (pg.empty() ? "" : ", ") + (r[1] == "t" ? "(" + r[0] + "::numeric * 100)::bigint" : r[0]);
      ch += (ch.empty() ? "" : ", ") + r[0];
    }
    return TableQuery{"SELECT " + pg + " FROM d ORDER BY n", "SELECT " + ch + " FROM d FINAL WHERE _deleted = 0 ORDER BY n"};
  };
  const auto secrets_queued = [&] {
    return db.pg_rows(fmt::format("SELECT count(*) FROM {}.{} WHERE \"row\"::text LIKE '%s3cr3t%'", cfg.outbox.schema,
                                  cfg.outbox.table))[0][0];
  };
  // Under a running pipeline: a new writer session writes without an error, and d ends equal.
  const auto writes_then_equal = [&](PipelineRunner& runner) {
    {
      Writer writer(db, 100000);
      std::this_thread::sleep_for(400ms);
      writer.finish();
      EXPECT_EQ(writer.errors(), std::vector<std::string>{}) << joined(writer.errors());
    }
    EXPECT_TRUE(wait_equal(db, replicated())) << runner.describe();
    EXPECT_FALSE(runner.failed()) << runner.describe();
    runner.stop();
  };
  Outcome expected = payload.starts_with("key") ? ddl.key_payload : ddl.row_payload;
  if (expected == Outcome::FollowsIfRename) expected = clickhouse_can_rename(db) ? Outcome::Follows : Outcome::Stops;

  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, replicated())) << runner.describe();
    Writer writer(db, 100);
    std::this_thread::sleep_for(400ms);  // the writer's session has run (and planned) every trigger
    ASSERT_NO_THROW(db.pg_exec(*ddl.then ? fmt::format("BEGIN; {}; {}; COMMIT", ddl.sql, ddl.then) : ddl.sql))
        << "pg2ch must not block the migration";
    if (expected == Outcome::Stops) {
      EXPECT_TRUE(wait_until([&] { return state_of().state == "stopped"; }, 60s)) << runner.describe();
    }
    std::this_thread::sleep_for(800ms);
    writer.finish();
    EXPECT_EQ(writer.errors(), std::vector<std::string>{}) << "the application's writes failed:" << joined(writer.errors());
    if (payload.starts_with("row")) {
      EXPECT_EQ(secrets_queued(), "0") << "an excluded column's values entered the events table";
    }
    if (expected == Outcome::ConfigRefuses) {
      const auto queued = [&] {
        return db.pg_rows(fmt::format("SELECT count(*) FROM {}.{} WHERE rel = 'd'::regclass", cfg.outbox.schema,
                                      cfg.outbox.table))[0][0];
      };
      const auto before = queued();
      std::this_thread::sleep_for(1s);
      EXPECT_NE(before, "0") << "the writes after the rename are queued, not lost";
      EXPECT_EQ(queued(), before) << "the table stopped: its events stay queued";
      EXPECT_FALSE(runner.failed()) << runner.describe();
      runner.stop();
      return;
    }
    if (expected == Outcome::Follows) {
      EXPECT_TRUE(wait_equal(db, replicated())) << runner.describe();
      const auto d = state_of();
      EXPECT_EQ(d.state, "streaming") << d.last_error;
      EXPECT_FALSE(runner.failed()) << runner.describe();
      runner.stop();
      // pg2ch replaced the trigger functions for the new columns itself: the next start finds
      // them as it would generate them (no "run pg2ch setup"), and the writes go on.
      PipelineRunner again(cfg);
      writes_then_equal(again);
      return;
    }
    const auto d = state_of();
    EXPECT_NE(d.last_error.find("changed at the source"), std::string::npos) << d.last_error;
    EXPECT_NE(events_waiting(db, cfg), "0") << "the stopped table's events stay queued";
    runner.stop();
  }

  // The fix the status names: drop the target, delete the queued events, resync, restart; and
  // setup first, for the changes `run` asks it for.
  db.ch_exec("DROP TABLE d");
  db.pg_exec(fmt::format("DELETE FROM {}.{} WHERE rel = 'd'::regclass", cfg.outbox.schema, cfg.outbox.table));
  outbox_setup(cfg);
  auto resync = pg2ch_cli(db, config_file, {"resync", "public.d"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return state_of().state == "streaming"; }, 60s)) << runner.describe();
  writes_then_equal(runner);
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxDdlUnderWriter,
                         ::testing::Combine(::testing::Values("key", "row", "row_statement"),
                                            ::testing::Range(0, static_cast<int>(std::size(kDdls)))),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return std::get<0>(info.param) + "_" + kDdls[std::get<1>(info.param)].name;
                         });

}  // namespace
}  // namespace pg2ch::test
