// The outbox's initial copy resumes per range after a SIGKILL mid-copy (capture/outbox/
// outbox_copy.h): the ranges ClickHouse accepted before the kill are kept, the others copied from
// a new snapshot, the queued events applied after; with a writer running throughout, every row
// ends equal and the queue drains.
#include <gtest/gtest.h>

#include "outbox/outbox_support.h"
#include "support/background_writer.h"
#include "support/copy_resume.h"
#include "support/log_text.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr long kRows = 300000;

TEST(OutboxCopyResume, KilledMidCopyResumesTheRangesNotDoneAndEndsEqual) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL, pad text NOT NULL)");
  db.pg_exec("INSERT INTO big SELECT g, g % 1000, repeat('p', 100) FROM generate_series(1, " + std::to_string(kRows) + ") g");
  auto cfg = outbox_config(db, {"public.big"});
  cfg.logical.snapshot_workers = 2;
  cfg.logical.snapshot_range_mb = 2;
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);

  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    c.exec("UPDATE big SET v = v + 1, pad = pad || 'u' WHERE id = " + std::to_string(1 + (i * 7919L) % kRows));
    if (i % 3 == 0) c.exec("DELETE FROM big WHERE id = " + std::to_string(1 + (i * 104729L) % kRows));
    if (i % 2 == 0) c.exec("INSERT INTO big VALUES (" + std::to_string(kRows + i) + ", 1, 'new')");
  }, 2ms);
  auto first = pg2ch_cli(db, config, {"run"}, "first");
  ASSERT_TRUE(wait_until([&] { return occurrences(first.stderr_text(), "copied (range") >= 6; }, 120s, 20ms))
      << first.describe();
  first.kill();
  const auto done_at_kill = occurrences(first.stderr_text(), "copied (range");
  ASSERT_LT(done_at_kill, 15u) << "the copy ran too far to tell a resume from a restart: " << first.describe();

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  ASSERT_TRUE(wait_until([&] { return second.stderr_text().find("outbox: copied") != std::string::npos; }, 120s))
      << second.describe();
  writer.finish();
  const std::string log = second.stderr_text();
  ASSERT_NE(log.find("outbox: resuming the copy of"), std::string::npos) << log;
  const long total = number_after(log, "outbox: [0-9]+ of");
  const long done_before = number_after(log, "range\\(s\\) \\(");
  const long copied_now = number_after(log, "outbox: copied");
  expect_copied_about_what_was_left(kRows, done_at_kill, total, done_before, copied_now, log);

  EXPECT_TRUE(wait_equal(db, same_columns("big", "id, v, pad", "id"), 120s)) << second.describe();
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 60s)) << "the queue drains";
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

}  // namespace
}  // namespace pg2ch::test
