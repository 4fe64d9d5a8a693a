// Killing pg2ch (SIGKILL, no chance to flush) at any moment and starting it again must leave
// exactly the source's rows in ClickHouse: nothing lost (the slot only confirms what ClickHouse
// accepted) and nothing extra (re-delivered changes collapse by key and version).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>

#include "support/table_compare.h"
#include "support/child_process.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

ChildProcess start_run(const TestDatabase& db, const std::filesystem::path& config, const std::string& tag) {
  return ChildProcess::spawn_pg2ch({.args = {"--config", config.string(), "run"}, .env = {}, .dir = db.dir(), .log_prefix = tag});
}

TEST(LogicalRestart, KilledMidStreamResumesWithoutLossOrDuplicates) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE events (id bigint PRIMARY KEY, kind int NOT NULL, note text)");
  db.pg_exec("INSERT INTO events SELECT g, g % 10, 'seed' FROM generate_series(1, 5000) g");
  const auto config = write_config_file(make_test_config(db), db.dir() / "pg2ch.toml");

  std::atomic<bool> writing{true};
  std::atomic<long> transactions{0};
  std::thread writer([&] {
    auto conn = db.pg_connect();
    std::mt19937 rng(42);
    long next_id = 100000;
    while (writing) {
      const int op = static_cast<int>(rng() % 4);
      const long id = 1 + static_cast<long>(rng() % 5000);
      conn.exec("BEGIN");
      if (op == 0) conn.exec("INSERT INTO events VALUES (" + std::to_string(next_id++) + ", 1, 'new')");
      if (op == 1) conn.exec("UPDATE events SET kind = kind + 1, note = 'upd' WHERE id = " + std::to_string(id));
      if (op == 2) conn.exec("DELETE FROM events WHERE id = " + std::to_string(id));
      if (op == 3) conn.exec("UPDATE events SET id = id + 1000000 WHERE id = " + std::to_string(id));
      conn.exec("INSERT INTO events VALUES (" + std::to_string(next_id++) + ", 2, 'batch') ");
      conn.exec("COMMIT");
      ++transactions;
    }
  });

  for (int round = 0; round < 3; ++round) {
    auto run = start_run(db, config, "run" + std::to_string(round));
    std::this_thread::sleep_for(1500ms + std::chrono::milliseconds(round * 700));
    ASSERT_TRUE(run.running()) << run.describe();
    run.kill();
  }
  writing = false;
  writer.join();
  ASSERT_GT(transactions.load(), 100);

  auto final_run = start_run(db, config, "final");
  const auto q = same_columns("events", "id, kind, note", "id");
  EXPECT_TRUE(wait_equal(db, q, 90s)) << final_run.describe();
  EXPECT_EQ(final_run.stop(SIGTERM), 0) << final_run.describe();
}

// A 1.5M-row table copied by two workers: long enough to interrupt. Returns once the copy runs.
ChildProcess start_long_snapshot(TestDatabase& db, config::Config& cfg, std::filesystem::path& config) {
  db.pg_exec("CREATE TABLE wide (id int PRIMARY KEY, v int NOT NULL, pad text NOT NULL)");
  db.pg_exec("INSERT INTO wide SELECT g, g % 1000, repeat('p', 80) FROM generate_series(1, 1500000) g");
  cfg = make_test_config(db);
  cfg.logical.snapshot_workers = 2;
  config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto first = start_run(db, config, "first");
  EXPECT_TRUE(wait_until([&] { return first.stderr_text().find("initial snapshot:") != std::string::npos; }, 60s))
      << first.describe();
  std::this_thread::sleep_for(400ms);
  EXPECT_TRUE(first.running()) << "snapshot finished too fast to interrupt: " << first.describe();
  return first;
}

// Changes while pg2ch is down, then a clean start that resumes the snapshot (the ranges not done,
// from a new snapshot; snapshot_resume_test.cpp measures how much) and ends equal.
void changes_then_second_run_resumes(TestDatabase& db, const std::filesystem::path& config) {
  db.pg_exec("UPDATE wide SET v = v + 1 WHERE id % 100 = 0");
  db.pg_exec("DELETE FROM wide WHERE id % 1000 = 1");
  auto second = start_run(db, config, "second");
  const TableQuery q{"SELECT count(*), sum(id), sum(v), sum(length(pad)) FROM wide",
                     "SELECT count(), sum(id), sum(v), sum(length(pad)) FROM wide FINAL WHERE _deleted = 0"};
  EXPECT_TRUE(wait_equal(db, q, 180s)) << second.describe();
  // The slot of the first run is kept: the deletes made while pg2ch was down come through the
  // stream from its consistent point, over any row of them the first run had copied.
  EXPECT_NE(second.stderr_text().find("initial snapshot resumed"), std::string::npos) << second.describe();
  EXPECT_EQ(second.stderr_text().find("left from an unfinished snapshot"), std::string::npos) << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

TEST(LogicalRestart, KilledMidSnapshotResumesIt) {
  auto db = make_test_database();
  config::Config cfg;
  std::filesystem::path config;
  auto first = start_long_snapshot(db, cfg, config);
  first.kill();
  ASSERT_NE(read_file(cfg.state.path).find("snapshot"), std::string::npos) << "state must record the unfinished copy";
  changes_then_second_run_resumes(db, config);
}

// SIGTERM mid-copy is a clean stop: exit 0 within a chunk per worker, not after the range (or
// the whole table) is copied, and not "Internal" as before; the next run resumes the copy.
TEST(LogicalRestart, SigtermMidSnapshotStopsCleanlyAndTheNextRunResumes) {
  auto db = make_test_database();
  config::Config cfg;
  std::filesystem::path config;
  auto first = start_long_snapshot(db, cfg, config);
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(first.stop(SIGTERM, 60s), 0) << first.describe();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 10s) << "stopped mid-range " << first.describe();
  EXPECT_NE(first.stderr_text().find("initial snapshot stopped after"), std::string::npos) << first.describe();
  ASSERT_NE(read_file(cfg.state.path).find("snapshot"), std::string::npos) << "state must record the unfinished copy";
  changes_then_second_run_resumes(db, config);
}

// CREATE_REPLICATION_SLOT waits for every transaction open when it started. An idle-in-transaction
// session makes that wait last as long as the session does: pg2ch says whom it waits for (pid,
// age, no query text) and a SIGTERM ends the wait at once with exit 0. Before, SIGTERM was
// ignored for as long as the transaction stayed open, and nothing was logged.
TEST(LogicalRestart, SlotCreationWaitingForAnOpenTransactionSaysWhoAndStopsOnSigterm) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t VALUES (1, 'a')");
  auto holder = db.pg_connect();
  holder.exec("BEGIN");
  holder.exec("INSERT INTO t VALUES (2, 'held open')");  // takes an xid: the slot waits for it
  const std::string holder_pid = holder.query("SELECT pg_backend_pid()").text(0, 0);

  auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto first = start_run(db, config, "first");
  ASSERT_TRUE(wait_until([&] { return first.stderr_text().find("pid " + holder_pid) != std::string::npos; }, 60s))
      << first.describe();
  EXPECT_NE(first.stderr_text().find("idle in transaction"), std::string::npos) << first.describe();
  EXPECT_EQ(first.stderr_text().find("held open"), std::string::npos) << "no query text or values in logs";
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(first.stop(SIGTERM, 30s), 0) << first.describe();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 10s) << first.describe();
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + cfg.logical.slot + "'"),
            (Rows{{"0"}}))
      << "the cancelled creation left no slot";

  holder.exec("COMMIT");
  auto second = start_run(db, config, "second");
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"), 60s)) << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

}  // namespace
}  // namespace pg2ch::test
