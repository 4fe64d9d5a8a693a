// A large table read from scratch through `pg2ch run --until-caught-up`: every page's window
// closes and is rescanned, the run stops by itself, and both sides agree. Prints the rate.
#include <gtest/gtest.h>

#include <iostream>

#include "poll/poll_support.h"
#include "support/child_process.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(PollCatchUp, LargeTableUntilCaughtUp) {
  const long rows = 300000;
  auto db = make_test_database();
  create_updated_at_table(db, "big");
  db.pg_exec("INSERT INTO big (v) SELECT 'row ' || g FROM generate_series(1, " + std::to_string(rows) + ") g");
  db.pg_exec("VACUUM ANALYZE big");
  auto cfg = watermark_config(db, "poll", "big", "updated_at");
  cfg.poll.batch_size = 10000;
  cfg.log.level = "info";
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  const auto start = std::chrono::steady_clock::now();
  auto run = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "run", "--until-caught-up"}, .env = {}, .dir = db.dir(), .log_prefix = "run"});
  ASSERT_EQ(run.wait(300s), 0) << run.describe();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ measured ] poll catch-up of " << rows << " rows: " << seconds << " s, " << rows / seconds
            << " rows/s\n";
  const TableQuery q{"SELECT count(*), sum(id), sum(length(v)) FROM big",
                     "SELECT count(), sum(id), sum(length(v)) FROM big FINAL WHERE _deleted = 0"};
  EXPECT_TRUE(wait_equal(db, q, 5s)) << "everything was durable when the run stopped";
}

}  // namespace
}  // namespace pg2ch::test
