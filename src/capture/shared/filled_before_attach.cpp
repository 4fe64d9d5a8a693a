#include "capture/shared/filled_before_attach.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string>

#include "common/error.h"

namespace pg2ch::capture {

namespace {

// The leaf partition's name and its pg_inherits row's xmin and cmin, when that row was written
// by the transaction that created the table (otherwise it was attached later, a case of its own).
constexpr const char* kLinkSql = R"SQL(
SELECT c.oid::regclass::text, i.xmin::text, i.cmin::text
  FROM pg_class c
  JOIN pg_type ty ON ty.oid = c.reltype
  JOIN pg_inherits i ON i.inhrelid = c.oid
 WHERE c.oid = $1::oid AND c.relkind = 'r' AND ty.xmin::text = i.xmin::text
)SQL";

}  // namespace

bool filled_before_attach(pg::Connection& conn, std::uint32_t partition_oid) {
  const std::string oid = std::to_string(partition_oid);
  pg::Result link = conn.query(kLinkSql, {oid});
  if (link.rows() == 0) return false;
  const std::string name = link.text(0, 0);
  bool filled = false;
  try {
    // cid has only an equality operator.
    filled = conn.query(fmt::format("SELECT EXISTS (SELECT 1 FROM ONLY {} WHERE xmin = $1::xid AND "
                                    "cmin::text::bigint < $2::bigint)",
                                    name),
                        {link.text(0, 1), link.text(0, 2)})
                 .boolean(0, 0);
  } catch (const Error&) {
    if (conn.query("SELECT 1 FROM pg_class WHERE oid = $1::oid", {oid}).rows() == 0) return false;  // dropped meanwhile
    throw;
  }
  if (filled) {
    spdlog::warn("partition {} was created, filled and attached in one transaction: the rows it got before its ATTACH "
                 "were not captured",
                 name);
  }
  return filled;
}

}  // namespace pg2ch::capture
