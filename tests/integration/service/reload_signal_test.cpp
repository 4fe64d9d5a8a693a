// SIGHUP on a running `pg2ch run`: the log level and batch limits change at once, settings read
// only at start are named as needing a restart, and the pipeline keeps going.
#include <gtest/gtest.h>

#include <thread>

#include "support/fixture.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(ReloadSignal, SighupAppliesLogLevelAndBatchLimitsAndNamesTheRest) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  auto cfg = make_test_config(db, {"public.t"});
  cfg.log.level = "info";
  cfg.batch.max_delay = 100ms;
  cfg.batch.idle_flush = 100ms;
  const auto file = db.dir() / "pg2ch.toml";
  write_config_file(cfg, file);
  auto run = pg2ch_cli(db, file, {"run"}, "run");
  db.pg_exec("INSERT INTO t VALUES (1, 'before')");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << run.describe();
  EXPECT_EQ(run.stderr_text().find("flushed "), std::string::npos) << "no debug lines at level info";

  cfg.log.level = "debug";
  cfg.batch.max_delay = 60s;
  cfg.batch.idle_flush = 60s;
  cfg.poll.interval = 1234ms;  // read only at start
  write_config_file(cfg, file);
  run.signal(SIGHUP);
  // The warning is the reload's last line.
  ASSERT_TRUE(wait_until([&] { return run.stderr_text().find("restart the service") != std::string::npos; }, 20s))
      << run.describe();
  const std::string log = run.stderr_text();
  EXPECT_NE(log.find("now in effect: batch.idle_flush_ms, batch.max_delay_ms, log.level"), std::string::npos) << log;
  EXPECT_NE(log.find("(restart the service to apply): poll.interval_ms"), std::string::npos) << log;

  // The new limits hold the next row back for a minute; the orderly stop writes it.
  db.pg_exec("INSERT INTO t VALUES (2, 'after')");
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE _deleted = 0"), (Rows{{"1"}})) << run.describe();
  EXPECT_TRUE(run.running()) << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE _deleted = 0"), (Rows{{"2"}}));
  EXPECT_NE(run.stderr_text().find("flushed 1 rows"), std::string::npos) << "debug lines after the reload";
}

}  // namespace
}  // namespace pg2ch::test
