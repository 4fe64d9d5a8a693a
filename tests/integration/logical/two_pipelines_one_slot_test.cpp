// Two pipelines configured with one replication slot (issue 13 item 3; docs/bad-input.md). Another
// pipeline (another name, its own state) naming a running pipeline's slot stops at start with an
// error naming the slot and the setting, and leaves the running one and its targets as they were.
// The same pipeline started twice (a second service instance) waits while the slot is active,
// says why, and takes over when the first one dies, with nothing lost.
#include <gtest/gtest.h>

#include "support/cli_outcome.h"
#include "support/pg2ch_cli.h"
#include "support/quick_retries.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr int kConfigExit = 2;  // service/exit_codes.h: configuration

config::Config quick_retries(const TestDatabase& db) { return with_quick_retries(make_test_config(db, {"public.t"})); }

void write_rows(TestDatabase& db, int from) {
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(" + std::to_string(from) + ", " +
             std::to_string(from + 99) + ") g");
  db.pg_exec("UPDATE t SET v = v || '!' WHERE id % 9 = 0");
}

TEST(TwoPipelinesOnOneSlot, AnotherPipelineNamingARunningPipelinesSlotStopsAndChangesNothing) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  write_rows(db, 1);
  const auto cfg = quick_retries(db);
  auto first = pg2ch_cli(db, write_config_file(cfg, db.dir() / "first.toml"), {"run"}, "first");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << first.describe();

  auto other = cfg;
  other.name = "other-pipeline";
  other.state.path = (db.dir() / "other.state").string();
  expect_one_line_error(run_cli(db, other, "run"),
                        {"replication slot " + cfg.logical.slot, "no record of creating it", "logical.slot"},
                        kConfigExit);

  write_rows(db, 1000);
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << first.describe();
  EXPECT_EQ(first.stop(SIGTERM), 0) << first.describe();
}

TEST(TwoPipelinesOnOneSlot, TheSamePipelineStartedTwiceWaitsForTheSlotAndTakesOverWithNothingLost) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  write_rows(db, 1);
  const auto file = write_config_file(quick_retries(db), db.dir() / "pg2ch.toml");
  auto first = pg2ch_cli(db, file, {"run"}, "first");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << first.describe();

  auto second = pg2ch_cli(db, file, {"run"}, "second");
  ASSERT_TRUE(wait_until([&] { return second.stderr_text().find("is already active") != std::string::npos; }, 60s))
      << second.describe();
  write_rows(db, 1000);
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << first.describe();
  EXPECT_TRUE(second.running()) << "the second instance waits: " << second.describe();

  first.kill();
  write_rows(db, 2000);
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"), 120s)) << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

}  // namespace
}  // namespace pg2ch::test
