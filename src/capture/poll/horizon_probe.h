#pragma once
// Decides when a window can close: when no transaction that could still commit a row into its
// range is running (the README's "visibility horizon").
//
// Always checked: every transaction in progress at the page's snapshot (pg_snapshot_xip(S)), and
// every xid a backend held at the read (S's xip lists only xids below the latest completed one),
// has ended. That misses transactions that had no xid yet at S but had already taken their
// watermark value (nextval(), now()) — they write a value inside the range later. Those are
// covered by a second check, no other client backend of this database with xact_start before
// the page's read time, which needs to see other sessions' xact_start: superuser or a member of
// pg_read_all_stats. Without it only the role's own sessions are checked; a warning says so once.
#include <string>

#include "capture/poll/window_queue.h"
#include "pg/connection.h"

namespace pg2ch::capture::poll {

class HorizonProbe {
 public:
  // Detects the privilege (one query) and warns once when it is missing.
  explicit HorizonProbe(pg::Connection& conn);

  bool sees_all_transactions() const { return sees_all_; }
  bool can_close(const Window& w);

  // One line for `pg2ch status` / the warning: which guarantee applies and what to GRANT.
  static std::string describe(bool sees_all, const std::string& user);

 private:
  pg::Connection& conn_;
  bool sees_all_ = false;
};

// Whether the connected role can see other sessions' xact_start.
bool role_sees_all_transactions(pg::Connection& conn);

}  // namespace pg2ch::capture::poll
