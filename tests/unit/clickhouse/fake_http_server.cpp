#include "fake_http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace pg2ch::clickhouse::test {
namespace {

// Where the pre-routing hook parks a request's Content-Encoding (see below).
constexpr const char* kParkedEncoding = "X-Fake-Server-Content-Encoding";

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// httplib's own thread pool, counting the connections it is handed (one task per accepted socket).
class CountingTaskQueue : public httplib::TaskQueue {
 public:
  explicit CountingTaskQueue(std::shared_ptr<std::atomic<int>> counter)
      : counter_(std::move(counter)), pool_(4) {}
  void enqueue(std::function<void()> fn) override {
    ++*counter_;
    pool_.enqueue(std::move(fn));
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  std::shared_ptr<std::atomic<int>> counter_;
  httplib::ThreadPool pool_;
};

}  // namespace

FakeHttpServer::FakeHttpServer(Handler handler)
    : handler_(std::move(handler)),
      server_(std::make_unique<httplib::Server>()),
      connections_(std::make_shared<std::atomic<int>>(0)) {
  auto& svr = *server_;
  svr.new_task_queue = [counter = connections_] { return new CountingTaskQueue(counter); };
  svr.set_keep_alive_max_count(1000);

  // Debian's libcpp-httplib is built with zlib and brotli, so the server would inflate gzip
  // bodies before the handler sees them. The tests check the bytes the client sent, so the
  // Content-Encoding header is parked under another name before the body is read (the hook runs
  // between the header and the body) and restored in the recorded request. `req` is the
  // server's own non-const Request, handed over as const.
  svr.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    auto& headers = const_cast<httplib::Request&>(req).headers;
    if (auto it = headers.find("Content-Encoding"); it != headers.end()) {
      std::string value = it->second;
      headers.erase(it);
      headers.emplace(kParkedEncoding, std::move(value));
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto serve = [this](const httplib::Request& req, httplib::Response& res) {
    RecordedRequest recorded;
    recorded.method = req.method;
    recorded.target = req.target;
    for (const auto& [name, value] : req.headers) {
      std::string key = lower(name);
      if (key == lower(kParkedEncoding)) key = "content-encoding";
      recorded.headers[key] = value;
    }
    recorded.body = req.body;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(recorded);
    }
    FakeResponse answer = handler_(recorded);
    res.status = answer.status;
    for (const auto& header : answer.headers) {
      const auto colon = header.find(':');
      std::string value = header.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      res.set_header(header.substr(0, colon), value);
    }
    res.body = std::move(answer.body);
  };
  svr.Get(".*", serve);
  svr.Post(".*", serve);
  svr.Put(".*", serve);
  svr.Delete(".*", serve);

  port_ = svr.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("fake HTTP server: cannot bind a loopback port");
  thread_ = std::thread([&svr] { svr.listen_after_bind(); });
  // stop() only works on a running server; the socket already accepts connections meanwhile.
  while (!svr.is_running()) std::this_thread::yield();
}

FakeHttpServer::~FakeHttpServer() {
  server_->stop();
  thread_.join();
}

std::vector<RecordedRequest> FakeHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("bind");
  return ntohs(addr.sin_port);
}

}  // namespace pg2ch::clickhouse::test
