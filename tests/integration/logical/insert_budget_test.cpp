// The insert budget (pipeline/insert_budget.h): a trickle of single-row transactions spread over
// many tables makes no more INSERTs than batch.max_inserts_per_second allows, counted by
// ClickHouse itself (each INSERT takes one block number per table), and every row arrives.
// clickhouse.async_insert: the rows arrive where the server has asynchronous inserts (the 26.7
// engine), and an older server (18.16) stops the pipeline with the setting named.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/servers.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr int kTables = 40;

// One row per table (its number, rows, sum of v), in both dialects.
std::string per_table_sums(bool clickhouse) {
  std::string sql;
  for (int i = 0; i < kTables; ++i) {
    const std::string n = std::to_string(i);
    if (i) sql += " UNION ALL ";
    sql += clickhouse ? "SELECT " + n + " AS t, toInt64(count()) AS n, toInt64(sum(v)) AS s FROM t" + n +
                            " FINAL WHERE _deleted = 0"
                      : "SELECT " + n + " AS t, count(*) AS n, coalesce(sum(v), 0) AS s FROM shop.t" + n;
  }
  return "SELECT t, n, s FROM (" + sql + ") x ORDER BY t";
}

// INSERTs ClickHouse took into the test database's tables: the highest block number per table.
long inserts_made(TestDatabase& db) {
  const auto rows = db.ch_rows(
      "SELECT toString(sum(m)) FROM (SELECT table, max(max_block_number) AS m FROM system.parts "
      "WHERE database = currentDatabase() GROUP BY table)");
  return std::stol(rows.at(0).at(0));
}

TEST(LogicalInsertBudget, ATrickleOverManyTablesStaysWithinTheBudget) {
  auto db = make_test_database();
  db.pg_exec("CREATE SCHEMA shop");
  for (int i = 0; i < kTables; ++i) {
    db.pg_exec("CREATE TABLE shop.t" + std::to_string(i) + " (id serial PRIMARY KEY, v int NOT NULL)");
  }
  auto cfg = make_test_config(db, {"shop.*"});
  cfg.batch.max_inserts_per_second = 4;
  const std::string pg_sql = per_table_sums(false);
  const std::string ch_sql = per_table_sums(true);
  auto equal = [&] { return db.ch_rows(ch_sql) == db.pg_rows(pg_sql); };

  const auto started = std::chrono::steady_clock::now();
  PipelineRunner runner(cfg);
  runner.wait_ready();
  {
    // About 150 single-row transactions a second, each into the next table of 40.
    BackgroundWriter writer(db, [](pg::Connection& conn, int i) {
      conn.exec("INSERT INTO shop.t" + std::to_string((i * 7) % kTables) + " (v) VALUES (" + std::to_string(i) + ")");
    });
    std::this_thread::sleep_for(8s);
  }
  ASSERT_TRUE(wait_until(equal, 90s)) << "every row arrives, the cold tables last";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const long inserts = inserts_made(db);
  // The rate, one second of burst, and one more for a token in flight at each end.
  EXPECT_LE(inserts, static_cast<long>(4 * seconds) + 4 + 2) << "over " << seconds << " s";
  EXPECT_GE(inserts, kTables) << "every table was written";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

TEST(LogicalInsertBudget, AsynchronousInsertsWhereTheServerHasThem) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE items (id serial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO items (v) SELECT 'a' || g FROM generate_series(1, 100) g");
  auto cfg = make_test_config(db);
  cfg.clickhouse.async_insert = true;
  const auto items = same_columns("items", "id, v", "id");
  if (!ch_server().engine) {
    PipelineRunner runner(cfg);
    runner.expect_failure();
    ASSERT_TRUE(wait_until([&] { return runner.failed(); }, 60s));
    try {
      runner.stop();
      FAIL() << "the pipeline stopped without an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Config) << e.what();
      EXPECT_NE(std::string(e.what()).find("clickhouse.async_insert = true needs ClickHouse 21.11"), std::string::npos)
          << e.what();
    }
    return;
  }
  PipelineRunner runner(cfg);
  {
    BackgroundWriter writer(db, [](pg::Connection& conn, int i) {
      conn.exec("INSERT INTO items (v) VALUES ('w" + std::to_string(i) + "')");
      conn.exec("UPDATE items SET v = v || '+' WHERE id = " + std::to_string(1 + i % 100));
      if (i % 5 == 0) conn.exec("DELETE FROM items WHERE id = (SELECT min(id) FROM items)");
    });
    std::this_thread::sleep_for(3s);
  }
  EXPECT_TRUE(wait_equal(db, items));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// A target near "Too many parts" (merges stopped, half of the server's parts_to_delay_insert
// made by hand, as deleted rows the view hides): pg2ch sees it within its 10 s look and spaces
// that table's INSERTs 5 s apart, where the test's 200 ms batches would make five a second;
// `status` names the table and the count. Every row still arrives.
TEST(LogicalInsertBudget, ATargetNearTooManyPartsGetsItsInsertsSpacedOut) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE hot (id serial PRIMARY KEY, v int NOT NULL)");
  auto cfg = make_test_config(db);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  const auto hot = same_columns("hot", "id, v", "id");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  const long delay_at =
      std::stol(db.ch_rows("SELECT value FROM system.merge_tree_settings WHERE name = 'parts_to_delay_insert'")
                    .at(0)
                    .at(0));
  db.ch_exec("SYSTEM STOP MERGES hot");
  for (long i = 1; i <= delay_at / 2; ++i) {
    db.ch_exec("INSERT INTO hot (id, v, _version, _deleted) VALUES (" + std::to_string(-i) + ", 0, 1, 1)");
  }
  auto blocks = [&] { return std::stol(db.ch_rows("SELECT toString(max(max_block_number)) FROM system.parts "
                                                   "WHERE database = currentDatabase() AND table = 'hot'")
                                           .at(0)
                                           .at(0)); };
  {
    BackgroundWriter writer(db, [](pg::Connection& conn, int i) {
      conn.exec("INSERT INTO hot (v) VALUES (" + std::to_string(i) + ")");
    }, 10ms);
    std::this_thread::sleep_for(12s);  // one look at the parts at least
    const long before = blocks();
    std::this_thread::sleep_for(10s);
    const long inserts = blocks() - before;
    EXPECT_LE(inserts, 3) << "10 s at one INSERT every 5 s (plus one at each end)";
    EXPECT_GE(inserts, 1) << "the table is still written";
  }
  const auto status = pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true);
  std::string notes;
  for (const auto& n : status["notes"].GetArray()) notes += std::string(n.GetString()) + "\n";
  EXPECT_NE(notes.find(".hot has "), std::string::npos) << notes;
  EXPECT_NE(notes.find("active parts in one partition (ClickHouse delays INSERTs at " + std::to_string(delay_at)),
            std::string::npos)
      << notes;
  db.ch_exec("SYSTEM START MERGES hot");
  EXPECT_TRUE(wait_equal(db, hot));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
