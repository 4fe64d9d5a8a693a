// 500 tables on one slot and one pipeline (issue 14, item 7): `setup`, the initial copy, streaming
// under a writer that touches every table, and a column added (without a default) to one of them
// while it streams; every table ends equal to its source, every column. The phases' times are
// printed (bench/many_tables.sh measures the same at scale, with memory and throughput).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>

#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr int kTables = 500;
constexpr int kRows = 20;
constexpr int kEvolved = 7;  // the table that gains a column

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(LogicalManyTables, FiveHundredTablesCopyStreamAndOneGainsAColumnAllEndEqual) {
  auto db = make_test_database();
  db.pg_exec("CREATE SCHEMA s");
  db.pg_exec("DO $$ BEGIN FOR k IN 0.." + std::to_string(kTables - 1) +
             " LOOP EXECUTE format('CREATE TABLE s.t%s (id int PRIMARY KEY, seq bigint NOT NULL, payload text NOT NULL)', k);"
             " EXECUTE format('INSERT INTO s.t%s SELECT g, 0, ''row '' || g FROM generate_series(1, " +
             std::to_string(kRows) + ") g', k); END LOOP; END $$");
  auto cfg = make_test_config(db, {"s.*"});
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");

  auto t0 = std::chrono::steady_clock::now();
  auto setup = pg2ch_cli(db, config_file, {"setup"}, "setup");
  ASSERT_EQ(setup.wait(180s), 0) << setup.describe();
  const double setup_s = since(t0);

  std::atomic<bool> evolved{false};
  BackgroundWriter writer(db, [&](pg::Connection& c, int i) {
    const std::string t = "s.t" + std::to_string((i * 7) % kTables);
    c.exec("UPDATE " + t + " SET seq = " + std::to_string(i) + " WHERE id = " + std::to_string(i % kRows + 1));
    if (i % 5 == 0) c.exec("INSERT INTO " + t + " VALUES (" + std::to_string(1000 + i) + ", " + std::to_string(i) + ", 'new')");
    if (i % 11 == 0) c.exec("DELETE FROM " + t + " WHERE id = " + std::to_string(i % kRows + 1));
    if (evolved && i % 3 == 0) {
      c.exec("UPDATE s.t" + std::to_string(kEvolved) + " SET extra = 'e" + std::to_string(i) + "' WHERE id = " +
             std::to_string(i % kRows + 1));
    }
  }, 1ms);

  t0 = std::chrono::steady_clock::now();
  PipelineRunner runner(cfg);
  runner.wait_ready(180s);
  const double copy_s = since(t0);
  std::this_thread::sleep_for(3s);
  db.pg_exec("ALTER TABLE s.t" + std::to_string(kEvolved) + " ADD COLUMN extra text");
  evolved = true;
  std::this_thread::sleep_for(5s);
  writer.finish();

  t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < kTables; ++k) {
    const std::string t = "t" + std::to_string(k);
    const std::string cols = k == kEvolved ? "id, seq, payload, extra" : "id, seq, payload";
    const TableQuery q{"SELECT " + cols + " FROM s." + t + " ORDER BY id",
                       "SELECT " + cols + " FROM " + t + " FINAL WHERE _deleted = 0 ORDER BY id"};
    ASSERT_TRUE(wait_equal(db, q, 120s)) << "table s." << t;
  }
  const double drain_s = since(t0);
  EXPECT_NE(db.ch_rows("SELECT count() FROM t" + std::to_string(kEvolved) + " FINAL WHERE extra != ''"), (Rows{{"0"}}))
      << "the added column's values arrived";
  std::cout << "[ tables   ] " << kTables << " tables: setup " << setup_s << " s, run to streaming (copy) " << copy_s
            << " s, equal " << drain_s << " s after the writer stopped\n";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
