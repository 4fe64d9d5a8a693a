#pragma once
// A minimal HTTP/1.1 server on 127.0.0.1 for client tests: serves one connection at a time,
// keeps connections alive, decodes Content-Length and chunked bodies, records every request and
// answers with whatever the test's handler returns.
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
  int connections() const { return connections_; }
  std::vector<RecordedRequest> requests() const;

 private:
  void run();
  bool serve(int fd, std::string& buf);  // false once the connection is closed

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  std::thread thread_;
};

// A loopback port with nothing listening (bound, then released).
int unused_port();

}  // namespace pg2ch::clickhouse::test
