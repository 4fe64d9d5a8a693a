// `pg2ch verify` against real servers: equal tables of every compared type are reported equal on
// both ClickHouse flavours (the two dialects' texts of a value agree), and rows a target lost,
// gained or holds differently are named by key, with the columns that differ.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/child_process.h"
#include "support/fixture.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr int kNeedsAttention = 3;

struct VerifyOutcome {
  int exit_code;
  std::string out, err;
};

VerifyOutcome run_verify(TestDatabase& db, const config::Config& cfg, std::vector<std::string> extra = {}) {
  const auto file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  std::vector<std::string> args{"--config", file.string(), "verify", "--settle-ms", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto p = ChildProcess::spawn_pg2ch({.args = args, .dir = db.dir(), .log_prefix = "verify"});
  const auto code = p.wait(120s);
  return {code.value_or(-1), p.stdout_text(), p.stderr_text()};
}

// Streams the configured tables until the target holds every row, then stops the pipeline.
void replicate(TestDatabase& db, const config::Config& cfg, const std::string& table) {
  PipelineRunner runner(cfg);
  runner.wait_ready();
  ASSERT_TRUE(wait_equal(db, {"SELECT count(*) FROM " + table,
                              "SELECT count() FROM " + table + " FINAL WHERE _deleted = 0"}));
  runner.stop();
}

TEST(Verify, EqualTablesOfEveryComparedTypeAreEqual) {
  auto db = make_test_database();
  db.pg_exec(R"(CREATE TABLE every (
      id int PRIMARY KEY, s smallint, b bigint, t text, vc varchar(10), c char(5), ok boolean,
      n numeric(10,2), wide numeric(30,10), f4 real, f8 double precision, d date, ts timestamp,
      tz timestamptz, u uuid, j jsonb, tags int[]))");
  db.pg_exec(R"(INSERT INTO every VALUES
      (1, -3, 9007199254740993, 'plain', 'v', 'ab', true, 1.50, -12345.0000000001, 1.5, 0.1, '2024-02-29',
       '2024-05-01 10:00:00.123456', '2024-05-01 10:00:00+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
       '{"b": [1, 2], "a": "x"}', '{1,2}'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3, 0, 0, E'tab\there\nnewline ''quote'' \\ back', '', 'x', false, 0.00, 0, 'NaN', '-Infinity', '1970-01-01',
       '1969-12-31 23:59:59.999999', '2000-01-01 00:00:00+00', '00000000-0000-0000-0000-000000000000', '[]', '{}'),
      (4, 32767, -1, 'ünïcödé ✓', 'ten chars!', 'abcde', true, -0.05, 100, '-0', 1e300, '2099-12-31',
       '2038-01-19 03:14:08', '1990-06-15 12:00:00-07', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', NULL),
      (5, 1, 2, 'zeros', 'z', 'z', true, 0, 0, 0, 0, '2000-01-01', '2000-01-01', '2000-01-01 00:00:00+00',
       '00000000-0000-0000-0000-000000000001', '{}', NULL),
      (6, 1, 2, 'denormals', 'd', 'd', true, 1, 1, 1e-45, 5e-324, '2000-01-01', '2000-01-01', '2000-01-01 00:00:00+00',
       '00000000-0000-0000-0000-000000000002', '{}', NULL))");
  const auto cfg = make_test_config(db, {"public.every"});
  replicate(db, cfg, "every");

  const auto r = run_verify(db, cfg);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("public.every: equal, 6 rows"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("not compared: tags (integer[]"), std::string::npos) << r.out;
}

TEST(Verify, RowsTheTargetLostGainedOrChangedAreNamedByKey) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text, n numeric(10,2))");
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g, g / 100.0 FROM generate_series(1, 3000) g");
  const auto cfg = make_test_config(db, {"public.t"});
  replicate(db, cfg, "t");
  ASSERT_EQ(run_verify(db, cfg).exit_code, 0);

  // Drift made behind pg2ch's back, each with a newer version than anything streamed.
  db.ch_exec("INSERT INTO t (id, v, n, _version, _deleted) VALUES (5, 'v5', 0.05, 18446744073709551000, 1)");
  db.ch_exec("INSERT INTO t (id, v, n, _version, _deleted) VALUES (7, 'changed', 0.07, 18446744073709551000, 0)");
  db.ch_exec("INSERT INTO t (id, v, n, _version, _deleted) VALUES (4000, 'v4000', 40, 18446744073709551000, 0)");
  db.ch_exec("INSERT INTO t (id, v, n, _version, _deleted) VALUES (9, 'v9', 1.23, 18446744073709551000, 0)");

  // A small leaf size makes the comparison split buckets before it reads rows.
  const auto r = run_verify(db, cfg, {"--leaf-rows", "4"});
  EXPECT_EQ(r.exit_code, kNeedsAttention) << r.out << r.err;
  EXPECT_NE(r.out.find("public.t: DIFFERENT: 3000 rows in PostgreSQL, 3000 in ClickHouse"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("missing in ClickHouse id=5\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("only in ClickHouse    id=4000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("different             id=7 (columns: v)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("different             id=9 (columns: n)\n"), std::string::npos) << r.out;

  // Fewer rows listed than differ: the rest is counted, not hidden.
  const auto limited = run_verify(db, cfg, {"--max-rows", "1"});
  EXPECT_EQ(limited.exit_code, kNeedsAttention);
  EXPECT_NE(limited.out.find("and 3 more rows differ"), std::string::npos) << limited.out;
}

TEST(Verify, NamesOnlyConfiguredTables) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY)");
  const auto cfg = make_test_config(db, {"public.t"});
  replicate(db, cfg, "t");
  const auto r = run_verify(db, cfg, {"public.nope"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("public.nope is not replicated"), std::string::npos) << r.err;
}

// Verify while the pipeline streams a steady writer: rows that differ only because their change
// is on its way are read again after the settle delay and not reported.
TEST(Verify, ChangesInFlightAreNotReportedAsDifferences) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)");
  db.pg_exec("INSERT INTO t SELECT g, 0 FROM generate_series(1, 50000) g");
  auto cfg = make_test_config(db, {"public.t"});
  cfg.batch.max_delay = 1s;  // every change waits up to a second in the batch: always some in flight
  cfg.batch.idle_flush = 1s;
  PipelineRunner runner(cfg);
  runner.wait_ready();
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    auto conn = db.pg_connect();
    // Each key once: a key changed in flight has settled when it is read again (a key changed
    // again and again would be in flight at every look, and rightly reported).
    for (int id = 1; writing && id <= 50000; ++id) {
      conn.exec("UPDATE t SET v = v + 1 WHERE id = " + std::to_string(id));
      std::this_thread::sleep_for(1ms);
    }
  });
  const auto file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  // Each run must find the table equal. One may meet no change in flight (a writer starved by a
  // loaded machine for longer than the batch delay), which exercises nothing: up to three runs.
  std::string out;
  std::size_t at = std::string::npos;
  for (int run = 1; run <= 3 && at == std::string::npos; ++run) {
    auto p = ChildProcess::spawn_pg2ch(
        {.args = {"--config", file.string(), "verify", "--settle-ms", "3000", "--max-rows", "3"},
         .dir = db.dir(),
         .log_prefix = "verify" + std::to_string(run)});
    const auto code = p.wait(120s);
    out = p.stdout_text();
    EXPECT_EQ(code.value_or(-1), 0) << out << p.stderr_text();
    EXPECT_NE(out.find("public.t: equal, 50000 rows"), std::string::npos) << out;
    at = out.find(" differences were changes in flight");
  }
  writing = false;
  writer.join();
  runner.stop();
  // More in flight than --max-rows lists: all of them are read again, none reported.
  ASSERT_NE(at, std::string::npos) << "no change was in flight in three runs: the settle delay was not exercised\n"
                                   << out;
  const auto start = out.rfind(' ', at - 1) + 1;
  EXPECT_GT(std::stoi(out.substr(start, at - start)), 3) << out;
}

// A target that lost everything: a few rows listed, the checked ones counted, the rest of the
// differing buckets counted as not matched one by one, without reading every key.
TEST(Verify, AnEmptiedTargetIsReportedWithinBounds) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 3000) g");
  const auto cfg = make_test_config(db, {"public.t"});
  replicate(db, cfg, "t");
  db.ch_exec("TRUNCATE TABLE t");
  const auto r = run_verify(db, cfg, {"--max-rows", "5", "--max-checked", "100"});
  EXPECT_EQ(r.exit_code, kNeedsAttention) << r.out << r.err;
  EXPECT_NE(r.out.find("public.t: DIFFERENT: 3000 rows in PostgreSQL, 0 in ClickHouse"), std::string::npos) << r.out;
  std::size_t listed = 0;
  for (auto at = r.out.find("missing in ClickHouse id="); at != std::string::npos;
       at = r.out.find("missing in ClickHouse id=", at + 1)) {
    ++listed;
  }
  EXPECT_EQ(listed, 5u) << r.out;
  EXPECT_NE(r.out.find("and 95 more rows differ"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("and at least 2900 more rows in buckets that differ"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pg2ch::test
