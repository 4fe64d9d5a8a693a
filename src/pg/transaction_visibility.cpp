#include "pg/transaction_visibility.h"

#include <fmt/format.h>

#include <thread>

namespace pg2ch::pg {

std::string full_xid_sql(std::string_view xid, std::string_view xmax) {
  const std::string d = fmt::format("(({0}) - ({1}) % 4294967296 + 4294967296) % 4294967296", xid, xmax);
  return fmt::format(
      "(CASE WHEN ({0}) >= 4294967296 THEN ({0}) ELSE GREATEST(0, ({1}) + {2} - CASE WHEN {2} < 16777216 THEN 0 ELSE "
      "4294967296 END) END)::text::pg_catalog.xid8",
      xid, xmax, d);
}

bool wait_until_visible(Connection& conn, std::uint32_t xid, std::chrono::milliseconds timeout) {
  static const std::string sql = fmt::format(
      "SELECT pg_catalog.pg_visible_in_snapshot({}, c.s) FROM (SELECT pg_catalog.pg_current_snapshot() AS s) c",
      full_xid_sql("$1::pg_catalog.int8", "pg_catalog.pg_snapshot_xmax(c.s)::text::pg_catalog.int8"));
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (conn.query(sql, {std::to_string(xid)}).text(0, 0) == "t") return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace pg2ch::pg
