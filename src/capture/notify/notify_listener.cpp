#include "capture/notify/notify_listener.h"

#include <poll.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "capture/notify/follow_up.h"
#include "common/interruptible_sleep.h"

namespace pg2ch::capture::notify {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kSlice{100};        // how soon `stop` is noticed
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

std::chrono::milliseconds left_until(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

}  // namespace

NotifyListener::NotifyListener(const config::Config& cfg) : cfg_(cfg) { connect(); }

void NotifyListener::connect() {
  conn_ = pg::Connection::connect(cfg_.postgres.conninfo(),
                                  fmt::format("LISTEN connection to PostgreSQL {}", cfg_.postgres.describe()));
  // A recognisable name in pg_stat_activity, for operators (and the reconnect test).
  conn_.exec("SET application_name = 'pg2ch listen'");
  conn_.exec(fmt::format("LISTEN {}", conn_.quote_identifier(cfg_.notify.channel)));
  if (PQsetnonblocking(conn_.get(), 1) != 0) {
    throw pg::error_from_connection(conn_.get(), "making the LISTEN connection non-blocking");
  }
}

void NotifyListener::reconnect(const std::atomic<bool>& stop, const std::string& why) {
  spdlog::warn("LISTEN connection lost ({}); reconnecting", why);
  auto backoff = kFirstBackoff;
  for (int attempt = 1; !stop.load(); ++attempt) {
    sleep_unless_stopped(backoff, stop);
    if (stop.load()) return;
    try {
      connect();
      ++reconnects_;
      spdlog::info("LISTEN connection re-established after {} attempt(s); catching up every table", attempt);
      return;
    } catch (const Error& e) {
      // Whatever the server says (down, refusing connections, restarting), keep trying: a
      // listener that gives up would leave the pipeline on its fallback timer without saying so.
      spdlog::warn("reconnecting the LISTEN connection (attempt {}) failed: {}", attempt, e.what());
    }
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

bool NotifyListener::wait_readable(std::chrono::milliseconds timeout) {
  pollfd pfd{PQsocket(conn_.get()), POLLIN, 0};
  if (pfd.fd < 0) return true;  // drain() will find the connection dead
  const int n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (n < 0 && errno != EINTR) throw Error(ErrorKind::Internal, "poll() on the LISTEN socket failed");
  return n > 0;
}

bool NotifyListener::drain(Wake& w) {
  if (PQconsumeInput(conn_.get()) == 0 || PQstatus(conn_.get()) == CONNECTION_BAD) return false;
  while (PGnotify* n = PQnotifies(conn_.get())) {
    Payload p = parse_payload(n->extra ? n->extra : "");
    auto& newest = w.tables[p.table];
    if (p.bucket_end_us && (!newest || *newest < *p.bucket_end_us)) newest = p.bucket_end_us;
    ++w.notifications;
    PQfreemem(n);
  }
  return true;
}

Wake NotifyListener::wait(std::chrono::milliseconds timeout, const std::atomic<bool>& stop) {
  Wake w;
  const auto deadline = Clock::now() + timeout;
  std::optional<Clock::time_point> gather_until;
  while (!stop.load()) {
    const auto until = gather_until ? std::min(*gather_until, deadline) : deadline;
    const auto left = left_until(until);
    const bool readable = wait_readable(std::min(left, kSlice));
    if (readable && !drain(w)) {
      std::string why = PQerrorMessage(conn_.get());
      why = why.substr(0, why.find('\n'));
      reconnect(stop, why.empty() ? "connection closed" : why);
      w.reconnected = true;
      return w;
    }
    if (w.notifications > 0 && !gather_until) gather_until = Clock::now() + cfg_.notify.coalesce;
    if (left_until(until).count() == 0) return w;
  }
  return w;
}

}  // namespace pg2ch::capture::notify
