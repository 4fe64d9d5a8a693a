#include "fake_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace pg2ch::clickhouse::test {
namespace {

struct Fd {
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int fd;
};

int listen_on_loopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 8) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/listen");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses one complete request from the front of `buf` and removes it; false if incomplete.
bool take_request(std::string& buf, RecordedRequest& req) {
  auto head_end = buf.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  req = {};
  std::size_t line_end = buf.find("\r\n");
  std::string line = buf.substr(0, line_end);
  auto sp1 = line.find(' ');
  auto sp2 = line.find(' ', sp1 + 1);
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (std::size_t pos = line_end + 2; pos < head_end;) {
    std::size_t eol = buf.find("\r\n", pos);
    std::string header = buf.substr(pos, eol - pos);
    auto colon = header.find(':');
    std::string value = header.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    req.headers[lower(header.substr(0, colon))] = value;
    pos = eol + 2;
  }
  std::size_t pos = head_end + 4;
  if (lower(req.headers["transfer-encoding"]) == "chunked") {
    for (;;) {
      std::size_t eol = buf.find("\r\n", pos);
      if (eol == std::string::npos) return false;
      std::size_t size = std::stoul(buf.substr(pos, eol - pos), nullptr, 16);
      if (buf.size() < eol + 2 + size + 2) return false;
      if (size == 0) {
        pos = eol + 4;
        break;
      }
      req.body.append(buf, eol + 2, size);
      pos = eol + 2 + size + 2;
    }
  } else if (req.headers.count("content-length")) {
    std::size_t size = std::stoul(req.headers["content-length"]);
    if (buf.size() < pos + size) return false;
    req.body = buf.substr(pos, size);
    pos += size;
  }
  buf.erase(0, pos);
  return true;
}

std::string reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    default: return "Error";
  }
}

void send_all(int fd, const std::string& data) {
  for (std::size_t sent = 0; sent < data.size();) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = listen_on_loopback(port_);
  thread_ = std::thread([this] { run(); });
}

FakeHttpServer::~FakeHttpServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<RecordedRequest> FakeHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void FakeHttpServer::run() {
  // Every open connection is polled, so a client that opens a new connection while an old one
  // idles is served too.
  struct Conn {
    int fd;
    std::string buf;
  };
  std::vector<Conn> conns;
  while (!stop_) {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    for (const auto& c : conns) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
    for (std::size_t i = fds.size(); i-- > 1;) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (!serve(conns[i - 1].fd, conns[i - 1].buf)) {
        ::close(conns[i - 1].fd);
        conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i - 1));
      }
    }
    if (fds[0].revents & POLLIN) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) {
        ++connections_;
        conns.push_back({fd, {}});
      }
    }
  }
  for (const auto& c : conns) ::close(c.fd);
}

bool FakeHttpServer::serve(int fd, std::string& buf) {
  char chunk[65536];
  ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
  if (n <= 0) return false;  // client closed (or aborted its request)
  buf.append(chunk, static_cast<std::size_t>(n));
  RecordedRequest req;
  while (take_request(buf, req)) {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(req);
    }
    FakeResponse resp = handler_(req);
    std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + reason(resp.status) + "\r\n";
    for (const auto& h : resp.headers) out += h + "\r\n";
    out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
    out += "Connection: Keep-Alive\r\n\r\n";
    out += resp.body;
    send_all(fd, out);
  }
  return true;
}

int unused_port() {
  int port = 0;
  Fd fd(listen_on_loopback(port));
  return port;
}

}  // namespace pg2ch::clickhouse::test
