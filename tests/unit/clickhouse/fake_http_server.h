#pragma once
// A scripted HTTP/1.1 server on 127.0.0.1 for client tests, built on cpp-httplib (Debian's
// libcpp-httplib-dev): keeps connections alive, records every complete request exactly as it
// arrived (target undecoded, body de-chunked but still compressed) and answers with whatever the
// test's handler returns.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace pg2ch::clickhouse::test {

struct RecordedRequest {
  std::string method;
  std::string target;                          // "/?database=..."
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked, still compressed
};

struct FakeResponse {
  int status = 200;
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeResponse(const RecordedRequest&)>;
  explicit FakeHttpServer(Handler handler);
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;
  ~FakeHttpServer();

  int port() const { return port_; }
  // TCP connections accepted so far.
  int connections() const { return *connections_; }
  std::vector<RecordedRequest> requests() const;

 private:
  Handler handler_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::shared_ptr<std::atomic<int>> connections_;
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  std::thread thread_;
};

// A loopback port with nothing listening (bound, then released).
int unused_port();

}  // namespace pg2ch::clickhouse::test
