#pragma once
// An HTTP relay in front of ClickHouse that, once armed, throws away the answer to the next INSERT
// that carries rows and replies 502 instead. ClickHouse has written the rows; the client sees a
// failure and sends the batch again, as after a connection broken between the server's commit and
// its answer, or a crash before the acknowledgement. Everything else is relayed as it is.
#include <atomic>
#include <memory>
#include <thread>

namespace httplib {
class Server;
}

namespace pg2ch::test {

class AnswerLosingRelay {
 public:
  explicit AnswerLosingRelay(int clickhouse_port);
  AnswerLosingRelay(const AnswerLosingRelay&) = delete;
  AnswerLosingRelay& operator=(const AnswerLosingRelay&) = delete;
  ~AnswerLosingRelay();

  int port() const { return port_; }
  void arm() { armed_ = true; }
  int answers_lost() const { return lost_; }

 private:
  int clickhouse_port_;
  int port_ = 0;
  std::atomic<bool> armed_{false};
  std::atomic<int> lost_{0};
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace pg2ch::test
