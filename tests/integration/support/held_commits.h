#pragma once
// Holds commits between their commit record and their visibility, to test what reads the
// source's current row: PostgreSQL flushes a commit record (which a logical walsender may decode
// and pg2ch act on at once), waits for synchronous standbys, and only then ends the transaction
// for new snapshots. A standby name that never connects holds a transaction there until the name
// is reset. Only sessions that ask for synchronous_commit = on wait (the test servers run with it
// off), so pg2ch's own sessions are not held. The destructor releases whatever is held and
// resets the server.
#include <chrono>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_database.h"
#include "support/wait.h"

namespace pg2ch::test {

class HeldCommits {
 public:
  explicit HeldCommits(TestDatabase& db) : db_(db) {
    using namespace std::chrono_literals;
    db_.pg_exec("ALTER SYSTEM SET synchronous_standby_names = 'pg2ch_test_never_connects'");
    db_.pg_exec("SELECT pg_reload_conf()");
    // The checkpointer applies the reload to the commit path a moment after sessions see it.
    wait_until([&] { return db_.pg_rows("SHOW synchronous_standby_names") == Rows{{"pg2ch_test_never_connects"}}; },
               10s);
    std::this_thread::sleep_for(300ms);
  }
  HeldCommits(const HeldCommits&) = delete;
  HeldCommits& operator=(const HeldCommits&) = delete;
  ~HeldCommits() {
    try {
      release();
    } catch (const std::exception& e) {
      std::cerr << "releasing held commits: " << e.what() << "\n";
    }
    for (auto& t : writers_) t.join();
  }

  // Runs `sql` (ending in COMMIT) on a session of its own; returns once its commit waits for the
  // standby (its commit record is in the WAL, its changes are not yet visible).
  void hold(std::string sql) {
    using namespace std::chrono_literals;
    auto conn = std::make_shared<pg::Connection>(db_.pg_connect());
    const std::string pid = conn->query("SELECT pg_backend_pid()").text(0, 0);
    writers_.emplace_back([conn, sql = std::move(sql)] {
      try {
        conn->exec("SET synchronous_commit = on");
        conn->exec(sql);
      } catch (const std::exception& e) {
        std::cerr << "held transaction: " << e.what() << "\n";
      }
    });
    const bool waiting = wait_until(
        [&] {
          return db_.pg_rows("SELECT wait_event FROM pg_stat_activity WHERE pid = " + pid) == Rows{{"SyncRep"}};
        },
        10s);
    if (!waiting) throw std::runtime_error("the transaction of backend " + pid + " did not wait for the standby");
  }

  // Every held commit becomes visible.
  void release() {
    if (released_) return;
    db_.pg_exec("ALTER SYSTEM RESET synchronous_standby_names");
    db_.pg_exec("SELECT pg_reload_conf()");
    released_ = true;
  }

 private:
  TestDatabase& db_;
  std::vector<std::thread> writers_;
  bool released_ = false;
};

}  // namespace pg2ch::test
