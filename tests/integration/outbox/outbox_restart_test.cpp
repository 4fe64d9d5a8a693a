// Fault tests of the drainer: SIGKILL at any moment under a concurrent writer loses nothing (events
// are deleted only in the transaction that follows ClickHouse's acceptance), and two drainer
// processes at once under a writer reach the source's final state and empty the queue.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "outbox/outbox_support.h"
#include "support/child_process.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

ChildProcess start_run(const TestDatabase& db, const std::filesystem::path& config, const std::string& tag) {
  return ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "run"}, .env = {}, .dir = db.dir(), .log_prefix = tag});
}

// Random single- and multi-statement transactions: inserts, updates, deletes, key moves, and
// re-use of deleted keys, so per-key order matters for the final state.
class Writer {
 public:
  explicit Writer(TestDatabase& db, unsigned seed) {
    thread_ = std::thread([this, &db, seed] {
      auto conn = db.pg_connect();
      std::mt19937 rng(seed);
      long next_id = 100000 + static_cast<long>(seed) * 1000000;
      while (running_) {
        const int op = static_cast<int>(rng() % 5);
        const std::string id = std::to_string(1 + rng() % 3000);
        try {
          write_one(conn, op, id, next_id);
          ++transactions_;
        } catch (const Error&) {
          conn.try_query("ROLLBACK");  // a key collision between the two writers: skip it
        }
      }
    });
  }
  ~Writer() { stop(); }
  long stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
    return transactions_;
  }

 private:
  static void write_one(pg::Connection& conn, int op, const std::string& id, long& next_id) {
    conn.exec("BEGIN");
    if (op == 0) conn.exec("INSERT INTO items VALUES (" + std::to_string(next_id++) + ", 1, 'new')");
    if (op == 1) conn.exec("UPDATE items SET kind = kind + 1, note = 'upd' WHERE id = " + id);
    if (op == 2) conn.exec("DELETE FROM items WHERE id = " + id);
    if (op == 3) conn.exec("UPDATE items SET id = id + 10000000 WHERE id = " + id);
    if (op == 4) {
      conn.exec("INSERT INTO items VALUES (" + id + ", 7, 'reborn') ON CONFLICT (id) DO UPDATE SET kind = 0");
    }
    conn.exec("INSERT INTO items VALUES (" + std::to_string(next_id++) + ", 2, 'batch')");
    conn.exec("COMMIT");
  }

  std::atomic<bool> running_{true};
  std::atomic<long> transactions_{0};
  std::thread thread_;
};

class OutboxRestart : public ::testing::TestWithParam<std::string> {};

TEST_P(OutboxRestart, KilledUnderAConcurrentWriterLosesNothing) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE items (id bigint PRIMARY KEY, kind int NOT NULL, note text)");
  auto cfg = outbox_config(db, {"public.items"}, GetParam());
  cfg.outbox.batch_size = 500;
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO items SELECT g, g % 10, 'seed' FROM generate_series(1, 3000) g");
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");

  Writer writer(db, 1);
  for (int round = 0; round < 3; ++round) {
    auto run = start_run(db, config, "run" + std::to_string(round));
    std::this_thread::sleep_for(1500ms + std::chrono::milliseconds(round * 700));
    ASSERT_TRUE(run.running()) << run.describe();
    run.kill();
  }
  ASSERT_GT(writer.stop(), 100);

  auto final_run = start_run(db, config, "final");
  EXPECT_TRUE(wait_equal(db, same_columns("items", "id, kind, note", "id"), 90s)) << final_run.describe();
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << final_run.describe();
  EXPECT_EQ(final_run.stop(SIGTERM), 0) << final_run.describe();
}

TEST_P(OutboxRestart, TwoDrainersUnderAWriterAgreeAndDrainTheQueue) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE items (id bigint PRIMARY KEY, kind int NOT NULL, note text)");
  auto cfg = outbox_config(db, {"public.items"}, GetParam());
  cfg.outbox.batch_size = 50;  // small batches so the drainers interleave
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO items SELECT g, g % 10, 'seed' FROM generate_series(1, 3000) g");
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");

  auto a = start_run(db, config, "drainer_a");
  auto b = start_run(db, config, "drainer_b");
  {
    Writer w1(db, 1), w2(db, 2);
    std::this_thread::sleep_for(3s);
    db.pg_exec("TRUNCATE items");  // drainers must keep truncate ordered across each other
    db.pg_exec("INSERT INTO items SELECT g, 3, 'after truncate' FROM generate_series(1, 500) g ON CONFLICT DO NOTHING");
    std::this_thread::sleep_for(3s);
    ASSERT_GT(w1.stop() + w2.stop(), 100);
  }
  EXPECT_TRUE(wait_equal(db, same_columns("items", "id, kind, note", "id"), 90s)) << a.describe() << b.describe();
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s));
  ASSERT_TRUE(a.running()) << a.describe();
  ASSERT_TRUE(b.running()) << b.describe();
  EXPECT_EQ(a.stop(SIGTERM), 0) << a.describe();
  EXPECT_EQ(b.stop(SIGTERM), 0) << b.describe();
  // Both took part: each logs its count on exit ("stopped: N events").
  for (const auto* p : {&a, &b}) {
    EXPECT_EQ(p->stderr_text().find("stopped: 0 events"), std::string::npos) << p->describe();
  }
}

INSTANTIATE_TEST_SUITE_P(OutboxPayload, OutboxRestart, ::testing::Values("key", "row"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
