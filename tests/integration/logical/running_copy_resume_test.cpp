// Copies a running pipeline makes beside its stream (capture/logical/online_resync.h): `pg2ch
// resync TABLE` and a table new under `schema.*` (table_discovery.h). Killed mid-copy, once some of
// the table's ranges are in ClickHouse, the next start copies only the ranges the killed copy had
// not finished (table_copy.h: "logical.copy_again"), not the table. Writers on the copied table
// and on another one run throughout; the other table streams on during the copy, and both end
// equal to the source row by row.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <optional>

#include "support/background_writer.h"
#include "support/copy_resume.h"
#include "support/log_text.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// ~140 bytes a row: about 40 ranges of 1 MB.
constexpr long kRows = 300000;

std::string fill_big(const std::string& table) {
  return "INSERT INTO " + table + " SELECT g, g % 1000, repeat('p', 100) FROM generate_series(1, " +
         std::to_string(kRows) + ") g";
}

// Updates (moving rows between pages), deletes and inserts on `big` once `big_exists`, and an
// insert into `other` every turn.
BackgroundWriter write_both(TestDatabase& db, const std::string& big, const std::string& other,
                            const std::atomic<bool>& big_exists) {
  return BackgroundWriter(
      db,
      [big, other, &big_exists](pg::Connection& c, int i) {
        c.exec("INSERT INTO " + other + " (v) VALUES ('o" + std::to_string(i) + "')");
        if (!big_exists) return;
        c.exec("UPDATE " + big + " SET v = v + 1, pad = pad || 'u' WHERE id = " +
               std::to_string(1 + (i * 7919L) % kRows));
        if (i % 3 == 0) c.exec("DELETE FROM " + big + " WHERE id = " + std::to_string(1 + (i * 104729L) % kRows));
        if (i % 2 == 0) c.exec("INSERT INTO " + big + " VALUES (" + std::to_string(kRows + i) + ", 1, 'new')");
      },
      2ms);
}

long ch_count(TestDatabase& db, const std::string& table) {
  return std::stol(db.ch_rows("SELECT count() FROM " + table + " FINAL WHERE _deleted = 0")[0][0]);
}

// Waits (in the run `first`, which logged `ranges_before` copied ranges before this copy began)
// until ten ranges of the copy are in ClickHouse, checks that the other table (`other` at the
// source, `other_target` in ClickHouse) streamed meanwhile (rows written after the copy began
// reached its target), and kills the run. Returns the ranges the copy logged done.
std::size_t kill_mid_copy(TestDatabase& db, ChildProcess& first, std::size_t ranges_before, const std::string& other,
                          const std::string& other_target) {
  const long other_at_start = std::stol(db.pg_rows("SELECT count(*) FROM " + other)[0][0]);
  EXPECT_TRUE(
      wait_until([&] { return occurrences(first.stderr_text(), "copied (range") >= ranges_before + 10; }, 120s, 20ms))
      << first.describe();
  EXPECT_TRUE(wait_until([&] { return ch_count(db, other_target) > other_at_start; }, 30s, 50ms))
      << "the other table did not stream while the copy ran: " << first.describe();
  EXPECT_EQ(first.stderr_text().find("while streaming; it streams once"), std::string::npos)
      << "the copy had finished before the kill: " << first.describe();
  first.kill();
  const std::size_t done = occurrences(first.stderr_text(), "copied (range") - ranges_before;
  EXPECT_LT(done, 30u) << "the copy ran too far to tell a resume from a restart: " << first.describe();
  return done;
}

// The next start resumed the copy: the ranges the killed one finished were not copied again.
void expect_resumed(const std::string& log, std::size_t ranges_at_kill) {
  ASSERT_NE(log.find("copy again resumed"), std::string::npos) << log;
  const long total = number_after(log, "copy again resumed: [0-9]+ of");
  const long done_before = number_after(log, "copy again resumed: [0-9]+ of [0-9]+ range\\(s\\) \\(");
  const long copied_now = number_after(log, "copied 1 table\\(s\\) again:");
  expect_copied_about_what_was_left(kRows, ranges_at_kill, total, done_before, copied_now, log);
}

// Runs the pipeline at `config` (its tables `big` and `other` in `schema`) until its initial
// snapshot is done; `start_copy` then sets off a copy of `big` beside the stream (after it
// `big_exists`). Kills the run mid-copy, starts it again, and checks that the second run resumed
// the copy and that both tables end equal to the source, writers on both throughout.
void kill_mid_copy_then_resume(TestDatabase& db, const std::filesystem::path& config, const std::string& schema,
                               std::atomic<bool>& big_exists, const std::function<void()>& start_copy) {
  std::optional<ChildProcess> second;
  std::size_t ranges_at_kill = 0;
  {
    auto writer = write_both(db, schema + ".big", schema + ".other", big_exists);
    auto first = pg2ch_cli(db, config, {"run"}, "first");
    ASSERT_TRUE(wait_until([&] { return first.stderr_text().find("initial snapshot done") != std::string::npos; },
                           120s))
        << first.describe();
    const std::size_t initial_ranges = occurrences(first.stderr_text(), "copied (range");
    start_copy();
    big_exists = true;
    ranges_at_kill = kill_mid_copy(db, first, initial_ranges, schema + ".other", "other");
    second.emplace(pg2ch_cli(db, config, {"run"}, "second"));
    ASSERT_TRUE(wait_until([&] { return second->stderr_text().find("table(s) again:") != std::string::npos; }, 120s))
        << second->describe();
    writer.finish();
  }
  expect_resumed(second->stderr_text(), ranges_at_kill);
  const TableQuery big{"SELECT id, v, pad FROM " + schema + ".big ORDER BY id",
                       "SELECT id, v, pad FROM big FINAL WHERE _deleted = 0 ORDER BY id"};
  const TableQuery other{"SELECT id, v FROM " + schema + ".other ORDER BY id",
                         "SELECT id, v FROM other FINAL WHERE _deleted = 0 ORDER BY id"};
  EXPECT_TRUE(wait_equal(db, big, 120s)) << second->describe();
  EXPECT_TRUE(wait_equal(db, other, 120s)) << second->describe();
  EXPECT_EQ(second->stop(SIGTERM), 0) << second->describe();
}

TEST(RunningCopyResume, AResyncKilledMidCopyResumesItsRangesWhileTheOtherTableStreams) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL, pad text NOT NULL)");
  db.pg_exec(fill_big("big"));
  db.pg_exec("CREATE TABLE other (id serial PRIMARY KEY, v text)");
  auto cfg = make_test_config(db, {"public.big", "public.other"});
  cfg.logical.snapshot_range_mb = 1;
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  std::atomic<bool> big_exists{true};
  kill_mid_copy_then_resume(db, config, "public", big_exists, [&] {
    auto resync = pg2ch_cli(db, config, {"resync", "public.big"}, "resync");
    ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  });
}

TEST(RunningCopyResume, ANewTableKilledMidCopyResumesItsRangesWhileTheOtherTableStreams) {
  auto db = make_test_database();
  db.pg_exec("CREATE SCHEMA shop");
  db.pg_exec("CREATE TABLE shop.other (id serial PRIMARY KEY, v text)");
  auto cfg = make_test_config(db, {"shop.*"});
  cfg.logical.snapshot_range_mb = 1;
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  std::atomic<bool> big_exists{false};
  kill_mid_copy_then_resume(db, config, "shop", big_exists, [&] {
    // Created with its rows in one transaction: the pipeline finds it with them.
    db.pg_exec("BEGIN; CREATE TABLE shop.big (id bigint PRIMARY KEY, v int NOT NULL, pad text NOT NULL); " +
               fill_big("shop.big") + "; COMMIT");
  });
}

}  // namespace
}  // namespace pg2ch::test
