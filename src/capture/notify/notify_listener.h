#pragma once
// The LISTEN side of mode = "notify": a dedicated connection, waited on with poll(2) on its
// socket, that survives losing the server.
//
// A notification says "table X changed in the bucket ending at E" (follow_up.h) and nothing
// more, so notifications are a map of table names to the newest bucket end; a burst (many statements committing in quick succession) is gathered for
// notify.coalesce before the poll runs once for all of them.
//
// Connection loss (server restart, pg_terminate_backend, network): reconnect with backoff
// (0.1 s doubling to 5 s), LISTEN again, and report `reconnected`: notifications sent while away
// are lost for good, so the caller must catch up every table with a full poll.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "config/config.h"
#include "pg/connection.h"

namespace pg2ch::capture::notify {

struct Wake {
  // "schema.table" -> the latest bucket end received (nullopt: only triggers of an older pg2ch,
  // which notify every statement, so no follow-up is needed)
  std::map<std::string, std::optional<std::int64_t>> tables;
  std::size_t notifications = 0;     // as delivered (after PostgreSQL's per-transaction folding)
  bool reconnected = false;          // the connection was lost: notifications may be missing
};

class NotifyListener {
 public:
  // Connects and LISTENs; throws like any start-up connection.
  explicit NotifyListener(const config::Config& cfg);

  // Returns after `timeout`, or once a notification arrived plus notify.coalesce to gather more,
  // or after a reconnect; returns early (empty) when `stop` is set.
  Wake wait(std::chrono::milliseconds timeout, const std::atomic<bool>& stop);

  std::uint64_t reconnects() const { return reconnects_; }

 private:
  void connect();
  void reconnect(const std::atomic<bool>& stop, const std::string& why);
  // Reads what arrived; false when the connection is gone.
  bool drain(Wake& w);
  // Waits for the socket to be readable, at most `timeout`; false on timeout.
  bool wait_readable(std::chrono::milliseconds timeout);

  const config::Config& cfg_;
  pg::Connection conn_;
  std::uint64_t reconnects_ = 0;
};

}  // namespace pg2ch::capture::notify
