#pragma once
// An HTTP relay in front of ClickHouse that misbehaves on request, the way the network and proxies
// between pg2ch and ClickHouse do. Everything it is not told to spoil is relayed as it is.
//  - arm(): throws away the answer to the next INSERT that carries rows and replies 502 instead.
//    ClickHouse has written the rows; the client sees a failure and sends the batch again, as
//    after a connection broken between the server's commit and its answer.
//  - fail_inserts_with_ok(true): INSERTs that carry rows are not relayed; the reply is HTTP 200
//    with a ClickHouse exception as the body, as a proxy relays a failure, or as ClickHouse
//    itself answers once it has started its response. Nothing reached ClickHouse.
//  - fail_inserts_with_500(true, written): INSERTs that carry rows get HTTP 500 with a ClickHouse
//    exception (TOO_MANY_PARTS, code 252) in the body and header, as ClickHouse answers a batch it
//    gave up on part-way. With `written` the rows are relayed first and reach the table: the
//    worst case, a batch ClickHouse wrote (some blocks of it, or all) and still failed.
#include <atomic>
#include <memory>
#include <thread>

namespace httplib {
class Server;
}

namespace pg2ch::test {

class ClickHouseRelay {
 public:
  explicit ClickHouseRelay(int clickhouse_port);
  ClickHouseRelay(const ClickHouseRelay&) = delete;
  ClickHouseRelay& operator=(const ClickHouseRelay&) = delete;
  ~ClickHouseRelay();

  int port() const { return port_; }
  void arm() { armed_ = true; }
  int answers_lost() const { return lost_; }
  void fail_inserts_with_ok(bool on) { fail_with_ok_ = on; }
  int inserts_failed_with_ok() const { return failed_with_ok_; }
  void fail_inserts_with_500(bool on, bool written) {
    fail_500_written_ = written;
    fail_500_ = on;
  }
  int inserts_failed_with_500() const { return failed_500_; }

 private:
  int clickhouse_port_;
  int port_ = 0;
  std::atomic<bool> armed_{false};
  std::atomic<int> lost_{0};
  std::atomic<bool> fail_with_ok_{false};
  std::atomic<int> failed_with_ok_{0};
  std::atomic<bool> fail_500_{false};
  std::atomic<bool> fail_500_written_{false};
  std::atomic<int> failed_500_{0};
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace pg2ch::test
