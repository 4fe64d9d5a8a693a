// The initial snapshot resumes per range after a SIGKILL mid-copy (capture/logical/
// snapshot_progress.h): the ranges ClickHouse accepted before the kill are not copied again, the
// others come from a new snapshot, and with a writer running throughout the target ends equal to
// the source row by row (rows changed between the two snapshots are set right by the stream,
// ranges copied twice collapse by key and version).
#include <gtest/gtest.h>

#include <iostream>

#include "support/background_writer.h"
#include "support/child_process.h"
#include "support/log_text.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr long kRows = 300000;

ChildProcess start_run(const TestDatabase& db, const std::filesystem::path& config, const std::string& tag) {
  return ChildProcess::spawn_pg2ch({.args = {"--config", config.string(), "run"}, .env = {}, .dir = db.dir(), .log_prefix = tag});
}

struct Interrupted {
  std::filesystem::path config;
  std::size_t ranges_done_at_kill = 0;
};

// 300k rows of ~140 bytes (about 5000 blocks) in ranges of 2 MB on two workers: about 20 ranges.
// Killed once a third of them are in ClickHouse, while a writer updates (moving rows between
// pages), deletes and inserts.
void create_big(TestDatabase& db) {
  db.pg_exec("CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL, pad text NOT NULL)");
  db.pg_exec("INSERT INTO big SELECT g, g % 1000, repeat('p', 100) FROM generate_series(1, " + std::to_string(kRows) + ") g");
}

Interrupted copy_a_third_then_kill(TestDatabase& db) {
  auto cfg = make_test_config(db);
  cfg.logical.snapshot_workers = 2;
  cfg.logical.snapshot_range_mb = 2;
  Interrupted out{write_config_file(cfg, db.dir() / "pg2ch.toml")};
  auto first = start_run(db, out.config, "first");
  EXPECT_TRUE(wait_until([&] { return occurrences(first.stderr_text(), "copied (range") >= 6; }, 120s, 20ms))
      << first.describe();
  first.kill();
  out.ranges_done_at_kill = occurrences(first.stderr_text(), "copied (range");
  EXPECT_LT(out.ranges_done_at_kill, 15u) << "the copy ran too far to tell a resume from a restart: " << first.describe();
  return out;
}

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
    second.emplace(start_run(db, cut.config, "second"));
    ASSERT_TRUE(wait_until([&] { return second->stderr_text().find("initial snapshot done") != std::string::npos; },
                           120s))
        << second->describe();
  });
  ASSERT_TRUE(second);
  const std::string log = second->stderr_text();
  EXPECT_EQ(log.find("left from an unfinished snapshot"), std::string::npos) << "the slot was kept: " << log;
  ASSERT_NE(log.find("initial snapshot resumed"), std::string::npos) << log;
  // What the first run finished is not copied again: the second copies about what was left,
  // plus at most the two ranges the workers were in when killed (and the writer's new rows).
  const long total = number_after(log, "initial snapshot resumed: [0-9]+ of");
  const long done_before = number_after(log, "range\\(s\\) \\(");
  const long copied_now = number_after(log, "initial snapshot done:");
  std::cout << "[ resume   ] " << total << " ranges, " << done_before << " rows done before the kill, " << copied_now
            << " copied by the second run (table " << kRows << " rows + the writer's)\n";
  ASSERT_GT(total, 10) << log;
  const long per_range = kRows / total + 1;
  EXPECT_GE(done_before, (static_cast<long>(cut.ranges_done_at_kill) - 1) * per_range / 2) << log;
  EXPECT_LE(copied_now, kRows - done_before + 2 * per_range + 20000) << log;
  EXPECT_LT(copied_now, kRows * 9 / 10) << "copied nearly the whole table again: " << log;

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
  auto second = start_run(db, cut.config, "second");
  EXPECT_TRUE(wait_equal(db, same_columns("big", "id, v, pad", "id"), 120s)) << second.describe();
  EXPECT_NE(second.stderr_text().find("big is copied whole"), std::string::npos) << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

}  // namespace
}  // namespace pg2ch::test
