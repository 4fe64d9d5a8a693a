// SIGKILL at any moment under a steady writer, then a restart: the checkpoint only holds closed,
// durable windows, so nothing is lost; re-read rows collapse by key and _version.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "poll/poll_support.h"
#include "support/child_process.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(PollRestart, KilledUnderWritersResumesWithoutLoss) {
  auto db = make_test_database();
  create_updated_at_table(db, "orders");
  db.pg_exec("INSERT INTO orders (v) SELECT 'seed' || g FROM generate_series(1, 20000) g");
  auto cfg = watermark_config(db, "poll", "orders", "updated_at");
  cfg.poll.interval = 50ms;
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");

  std::atomic<bool> writing{true};
  std::atomic<long> transactions{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      auto conn = db.pg_connect();
      long i = 0;
      while (writing) {
        conn.exec("BEGIN");
        conn.exec("INSERT INTO orders (v) VALUES ('w" + std::to_string(w) + "')");
        if (++i % 3 == 0) std::this_thread::sleep_for(5ms);  // overlap the other writer's commits
        conn.exec("UPDATE orders SET v = v || '.' WHERE id = " + std::to_string(1 + (i * 37 + w) % 20000));
        conn.exec("COMMIT");
        ++transactions;
      }
    });
  }

  for (int round = 0; round < 3; ++round) {
    auto run = ChildProcess::spawn_pg2ch({.args = {"--config", config.string(), "run"},
                                          .env = {},
                                          .dir = db.dir(),
                                          .log_prefix = "run" + std::to_string(round)});
    std::this_thread::sleep_for(1200ms + std::chrono::milliseconds(round * 500));
    ASSERT_TRUE(run.running()) << run.describe();
    run.kill();
  }
  writing = false;
  for (auto& w : writers) w.join();
  ASSERT_GT(transactions.load(), 50);

  auto final_run = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "run"}, .env = {}, .dir = db.dir(), .log_prefix = "final"});
  EXPECT_TRUE(wait_equal(db, same_columns("orders", "id, v", "id"), 90s)) << final_run.describe();
  EXPECT_NE(final_run.stderr_text().find("resuming after its checkpoint"), std::string::npos) << final_run.describe();
  EXPECT_EQ(final_run.stop(SIGTERM), 0) << final_run.describe();
}

}  // namespace
}  // namespace pg2ch::test
