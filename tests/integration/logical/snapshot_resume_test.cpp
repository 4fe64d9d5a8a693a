// The initial snapshot resumes per range after a SIGKILL mid-copy (capture/logical/
// snapshot_progress.h): the ranges ClickHouse accepted before the kill are not copied again, the
// others come from a new snapshot, and with a writer running throughout the target ends equal to
// the source row by row (rows changed between the two snapshots are set right by the stream,
// ranges copied twice collapse by key and version).
#include <gtest/gtest.h>

#include "support/background_writer.h"
#include "support/copy_resume.h"
#include "support/log_text.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr long kRows = 300000;

struct Interrupted {
  std::filesystem::path config;
  std::size_t ranges_done_at_kill = 0;
};

// 300k rows of ~140 bytes (about 5000 blocks): about 20 ranges of 2 MB.
void create_big(TestDatabase& db) {
  db.pg_exec("CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL, pad text NOT NULL)");
  db.pg_exec("INSERT INTO big SELECT g, g % 1000, repeat('p', 100) FROM generate_series(1, " + std::to_string(kRows) + ") g");
}

// Two workers, killed once a third of the ranges are in ClickHouse.
Interrupted copy_a_third_then_kill(TestDatabase& db) {
  auto cfg = make_test_config(db);
  cfg.logical.snapshot_workers = 2;
  cfg.logical.snapshot_range_mb = 2;
  Interrupted out{write_config_file(cfg, db.dir() / "pg2ch.toml")};
  auto first = pg2ch_cli(db, out.config, {"run"}, "first");
  EXPECT_TRUE(wait_until([&] { return occurrences(first.stderr_text(), "copied (range") >= 6; }, 120s, 20ms))
      << first.describe();
  first.kill();
  out.ranges_done_at_kill = occurrences(first.stderr_text(), "copied (range");
  EXPECT_LT(out.ranges_done_at_kill, 15u) << "the copy ran too far to tell a resume from a restart: " << first.describe();
  // status says how far the copy got.
  const auto status = pg2ch_status_json(db, out.config, "status", true);
  const std::string copied = status["details"].HasMember("snapshot") ? status["details"]["snapshot"].GetString() : "";
  // A range is recorded done just before its line is logged: the kill may fall in between.
  const long recorded = number_after(copied, "^");
  EXPECT_GE(recorded, static_cast<long>(out.ranges_done_at_kill)) << copied;
  EXPECT_LE(recorded, static_cast<long>(out.ranges_done_at_kill) + 2) << copied;
  return out;
}

// A writer that updates (moving rows between pages), deletes and inserts while `body` runs.
void write_while(TestDatabase& db, const std::function<void()>& body) {
  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    const std::string id = std::to_string(1 + (i * 7919L) % kRows);
    c.exec("UPDATE big SET v = v + 1, pad = pad || 'u' WHERE id = " + id);
    if (i % 3 == 0) c.exec("DELETE FROM big WHERE id = " + std::to_string(1 + (i * 104729L) % kRows));
    if (i % 2 == 0) c.exec("INSERT INTO big VALUES (" + std::to_string(kRows + i) + ", 1, 'new')");
  }, 2ms);
  body();
  writer.finish();
}

TEST(SnapshotResume, KilledMidCopyResumesTheRangesNotDoneAndEndsEqual) {
  auto db = make_test_database();
  create_big(db);
  Interrupted cut;
  std::optional<ChildProcess> second;
  write_while(db, [&] {
    cut = copy_a_third_then_kill(db);
    second.emplace(pg2ch_cli(db, cut.config, {"run"}, "second"));
    ASSERT_TRUE(wait_until([&] { return second->stderr_text().find("initial snapshot done") != std::string::npos; },
                           120s))
        << second->describe();
  });
  ASSERT_TRUE(second);
  const std::string log = second->stderr_text();
  EXPECT_EQ(log.find("left from an unfinished snapshot"), std::string::npos) << "the slot was kept: " << log;
  ASSERT_NE(log.find("initial snapshot resumed"), std::string::npos) << log;
  // What the first run finished is not copied again.
  const long total = number_after(log, "initial snapshot resumed: [0-9]+ of");
  const long done_before = number_after(log, "range\\(s\\) \\(");
  const long copied_now = number_after(log, "initial snapshot done:");
  expect_copied_about_what_was_left(kRows, cut.ranges_done_at_kill, total, done_before, copied_now, log);

  EXPECT_TRUE(wait_equal(db, same_columns("big", "id, v, pad", "id"), 120s)) << second->describe();
  EXPECT_EQ(second->stop(SIGTERM), 0) << second->describe();
}

// A table rewritten between the runs (VACUUM FULL moves every row to another block, and the
// stream does not say so): its ranges mean nothing any more, so it is emptied and copied whole.
TEST(SnapshotResume, ATableRewrittenWhilePg2chWasDownIsCopiedWhole) {
  auto db = make_test_database();
  create_big(db);
  const Interrupted cut = copy_a_third_then_kill(db);
  db.pg_exec("DELETE FROM big WHERE id % 3 = 0");
  db.pg_exec("VACUUM FULL big");
  db.pg_exec("UPDATE big SET v = -v WHERE id % 10 = 1");
  auto second = pg2ch_cli(db, cut.config, {"run"}, "second");
  EXPECT_TRUE(wait_equal(db, same_columns("big", "id, v, pad", "id"), 120s)) << second.describe();
  EXPECT_NE(second.stderr_text().find("big is copied whole"), std::string::npos) << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

// A target dropped between the runs lost the rows of the ranges done: the copy starts over (its
// slot dropped, a new one made) instead of resuming into the new, empty target.
TEST(SnapshotResume, ATargetDroppedWhilePg2chWasDownTakesTheCopyFromTheStart) {
  auto db = make_test_database();
  create_big(db);
  const Interrupted cut = copy_a_third_then_kill(db);
  db.ch_exec("DROP TABLE big");
  auto second = pg2ch_cli(db, cut.config, {"run"}, "second");
  EXPECT_TRUE(wait_equal(db, same_columns("big", "id, v, pad", "id"), 120s)) << second.describe();
  EXPECT_NE(second.stderr_text().find("left from an unfinished snapshot"), std::string::npos) << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

// A column added while pg2ch was down in the middle of its initial copy (the ranges done hold rows
// of the old shape, the stream ahead holds the ALTER): the next start must not refuse the target
// it made itself; the table ends equal with the new column, its old rows given the default.
TEST(SnapshotResume, AColumnAddedWhilePg2chWasDownMidCopyEndsEqual) {
  auto db = make_test_database();
  create_big(db);
  const Interrupted cut = copy_a_third_then_kill(db);
  db.pg_exec("UPDATE big SET v = -v WHERE id % 1000 = 1");
  db.pg_exec("ALTER TABLE big ADD COLUMN extra int DEFAULT 7");
  db.pg_exec("INSERT INTO big VALUES (" + std::to_string(kRows + 1) + ", 5, 'after', 8)");
  auto second = pg2ch_cli(db, cut.config, {"run"}, "second");
  EXPECT_TRUE(wait_equal(db, same_columns("big", "id, v, pad, extra", "id"), 120s)) << second.describe();
  EXPECT_NE(second.stderr_text().find("its columns changed while its initial copy was cut short"), std::string::npos)
      << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

}  // namespace
}  // namespace pg2ch::test
