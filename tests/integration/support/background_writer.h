#pragma once
// The concurrent writer of the integration tests: runs `step(conn, i)` for i = 1, 2, ... on its
// own source connection, with a pause between steps, until finish() or destruction (so a failed
// assertion that leaves the test early still stops and joins it).
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "support/test_database.h"

namespace pg2ch::test {

class BackgroundWriter {
 public:
  BackgroundWriter(TestDatabase& db, std::function<void(pg::Connection&, int)> step,
                   std::chrono::milliseconds pause = std::chrono::milliseconds(3))
      : thread_([this, conn = db.pg_connect(), step = std::move(step), pause]() mutable {
          for (int i = 1; !stop_; ++i) {
            step(conn, i);
            std::this_thread::sleep_for(pause);
          }
        }) {}
  ~BackgroundWriter() { finish(); }
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Every 5 ms inserts a row into `table` (id serial, v text) and updates the one three before the
// newest: the table that must stream on while another stops or goes.
inline BackgroundWriter insert_update_writer(TestDatabase& db, const std::string& table) {
  return BackgroundWriter(
      db,
      [table](pg::Connection& conn, int i) {
        conn.exec("INSERT INTO " + table + " (v) VALUES ('w" + std::to_string(i) + "')");
        conn.exec("UPDATE " + table + " SET v = v || '+' WHERE id = (SELECT max(id) FROM " + table + ") - 3");
      },
      std::chrono::milliseconds(5));
}

}  // namespace pg2ch::test
