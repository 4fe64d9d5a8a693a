#include "capture/poll/horizon_probe.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace pg2ch::capture::poll {

bool role_sees_all_transactions(pg::Connection& conn) {
  return conn.query("SELECT pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')").boolean(0, 0);
}

std::string HorizonProbe::describe(bool sees_all, const std::string& user) {
  if (sees_all) {
    return "full: waits for every transaction that was running at a page's read (role sees all sessions)";
  }
  return fmt::format(
      "partial: waits for transactions holding an xid at a page's read, but cannot see other roles' sessions "
      "that took a watermark value (nextval/now()) before writing; GRANT pg_read_all_stats TO {} for the full "
      "guarantee",
      user);
}

HorizonProbe::HorizonProbe(pg::Connection& conn) : conn_(conn), sees_all_(role_sees_all_transactions(conn)) {
  if (!sees_all_) {
    const std::string user = conn_.query("SELECT current_user").text(0, 0);
    spdlog::warn("visibility horizon is {}", describe(false, user));
  }
}

bool HorizonProbe::can_close(const Window& w) {
  // Both conditions in one round trip. backend_type excludes autovacuum and walsenders, which
  // never write user rows; pg2ch's own session is excluded by pid.
  pg::Result r = conn_.query(
      "SELECT NOT EXISTS (SELECT 1 FROM pg_snapshot_xip($1::pg_snapshot) x"
      "                   WHERE pg_xact_status(x) = 'in progress')"
      "   AND NOT EXISTS (SELECT 1 FROM (SELECT backend_xid FROM pg_stat_activity"
      "                                  UNION ALL SELECT transaction FROM pg_prepared_xacts) t(x)"
      "                   WHERE x::text = ANY($3::text[]))"
      "   AND NOT EXISTS (SELECT 1 FROM pg_stat_activity"
      "                   WHERE datname = current_database() AND pid <> pg_backend_pid()"
      "                     AND backend_type = 'client backend'"
      "                     AND xact_start < 'epoch'::timestamptz + $2::int8 * interval '1 microsecond')",
      {w.snapshot, std::to_string(w.read_time_us), w.running_xids});
  return r.boolean(0, 0);
}

}  // namespace pg2ch::capture::poll
