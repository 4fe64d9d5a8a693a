#include "kafka/port_forwarder.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/error.h"

namespace pg2ch::kafka {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Copies what is readable on `from` to `to`; false when either side is done.
bool relay(int from, int to) {
  char buf[65536];
  const ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    const ssize_t w = ::write(to, buf + off, static_cast<std::size_t>(n - off));
    if (w <= 0) return false;
    off += w;
  }
  return true;
}

}  // namespace

PortForwarder::PortForwarder(int port, int target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in a = loopback(port);
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 16) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(listen_fd_);
    throw Error(ErrorKind::Config, fmt::format("cannot listen on 127.0.0.1:{}: {}", port, reason),
                "choose another --port, or leave it out to use the broker's own port");
  }
  thread_ = std::thread([this] { loop(); });
}

PortForwarder::~PortForwarder() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

void PortForwarder::loop() {
  struct Pair {
    int client;
    int broker;
  };
  std::vector<Pair> pairs;
  while (!stop_.load()) {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    for (const auto& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.broker, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      const int broker = client < 0 ? -1 : ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const sockaddr_in t = loopback(target_port_);
      if (broker >= 0 && ::connect(broker, reinterpret_cast<const sockaddr*>(&t), sizeof t) == 0) {
        pairs.push_back({client, broker});
      } else {
        if (client >= 0) ::close(client);
        if (broker >= 0) ::close(broker);
      }
    }
    std::vector<Pair> alive;
    for (std::size_t i = 0; i < fds.size() / 2 && i < pairs.size(); ++i) {
      const pollfd& c = fds[1 + 2 * i];
      const pollfd& b = fds[2 + 2 * i];
      bool ok = true;
      if (c.revents & (POLLIN | POLLHUP | POLLERR)) ok = relay(pairs[i].client, pairs[i].broker);
      if (ok && (b.revents & (POLLIN | POLLHUP | POLLERR))) ok = relay(pairs[i].broker, pairs[i].client);
      if (ok) {
        alive.push_back(pairs[i]);
      } else {
        ::close(pairs[i].client);
        ::close(pairs[i].broker);
      }
    }
    // Connections accepted in this round have no poll entry yet: keep them.
    for (std::size_t i = fds.size() / 2; i < pairs.size(); ++i) alive.push_back(pairs[i]);
    pairs = std::move(alive);
  }
  for (const auto& p : pairs) {
    ::close(p.client);
    ::close(p.broker);
  }
}

}  // namespace pg2ch::kafka
