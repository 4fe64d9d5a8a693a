// mode = "notify": the initial copy (the table's backlog, read from its first row in watermark
// order) goes on from its checkpoint after a SIGKILL mid-copy instead of from the first row, says
// how far it is as it goes, and with a writer running throughout ends equal.
#include <gtest/gtest.h>

#include <iostream>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "support/background_writer.h"
#include "support/log_text.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr long kRows = 300000;

TEST(NotifyCopyResume, KilledMidCopyGoesOnFromItsCheckpointAndEndsEqual) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  // Distinct watermarks, in id order: a page ends inside no group of equal ones.
  db.pg_exec("INSERT INTO items (v, updated_at) SELECT 'v' || g, now() - interval '1 day' + g * interval '1 ms' "
             "FROM generate_series(1, " + std::to_string(kRows) + ") g");
  auto cfg = watermark_config(db, "notify", "items", "updated_at");
  cfg.poll.batch_size = 2000;
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  capture::capture_mode("notify").setup(cfg);

  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    c.exec("UPDATE items SET v = 'u" + std::to_string(i) + "' WHERE id = " + std::to_string(1 + (i * 7919L) % kRows));
    if (i % 2 == 0) c.exec("INSERT INTO items (v) VALUES ('new " + std::to_string(i) + "')");
  }, 2ms);
  auto first = pg2ch_cli(db, config, {"run"}, "first");
  ASSERT_TRUE(wait_until([&] { return std::stol(db.ch_rows("SELECT count() FROM items")[0][0]) >= kRows / 3; }, 120s,
                         20ms))
      << first.describe();
  first.kill();
  const long in_at_kill = std::stol(db.ch_rows("SELECT count() FROM items")[0][0]);
  ASSERT_LT(in_at_kill, kRows * 2 / 3) << "the copy ran too far to tell a resume from a restart: " << first.describe();

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  ASSERT_TRUE(wait_until([&] { return second.stderr_text().find("read up to its newest row") != std::string::npos; },
                         120s))
      << second.describe();
  writer.finish();
  const std::string log = second.stderr_text();
  EXPECT_NE(log.find("resuming after its checkpoint"), std::string::npos) << log;
  const long read_now = number_after(log, "read up to its newest row \\(");
  std::cout << "[ resume   ] " << in_at_kill << " rows in ClickHouse at the kill, " << read_now
            << " read by the second run (table " << kRows << " rows + the writer's)\n";
  EXPECT_LT(read_now, kRows * 9 / 10) << "read nearly the whole table again: " << log;
  EXPECT_TRUE(wait_equal(db, same_columns("items", "id, v", "id"), 120s)) << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

}  // namespace
}  // namespace pg2ch::test
