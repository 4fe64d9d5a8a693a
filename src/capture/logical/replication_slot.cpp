#include "capture/logical/replication_slot.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace pg2ch::capture::logical {

CreatedSlot create_slot_with_snapshot(pg::Connection& replication_conn, const std::string& slot) {
  pg::Result r = replication_conn.try_query(fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT 'export')",
                                                        replication_conn.quote_identifier(slot)));
  if (!r.ok()) {
    const std::string state = r.sqlstate();
    if (state == "42710") {
      throw Error(ErrorKind::Schema, fmt::format("replication slot {} already exists", slot),
                  "another pipeline uses this slot name: set logical.slot to a unique name, or drop it with "
                  "`pg2ch teardown`");
    }
    if (state == "53400") {
      throw Error(ErrorKind::Config, fmt::format("cannot create replication slot {}: {}", slot, r.error_message()),
                  "raise max_replication_slots in postgresql.conf (restart needed) or drop unused slots");
    }
    if (state == "55000") {
      throw Error(ErrorKind::Config, fmt::format("cannot create replication slot {}: {}", slot, r.error_message()),
                  "set wal_level = logical and restart PostgreSQL");
    }
    throw pg::error_from_result(r, "creating replication slot " + slot);
  }
  CreatedSlot s;
  s.name = r.text(0, 0);
  s.consistent_point = parse_lsn(r.text(0, 1)).value_or(kInvalidLsn);
  s.snapshot_name = r.text(0, 2);
  spdlog::info("created replication slot {} at {} (snapshot {})", s.name, format_lsn(s.consistent_point),
               s.snapshot_name);
  return s;
}

std::optional<SlotInfo> find_slot(pg::Connection& conn, const std::string& slot) {
  pg::Result r = conn.query(
      "SELECT slot_name, plugin, active, restart_lsn, confirmed_flush_lsn, pg_current_wal_lsn(), "
      "COALESCE(pg_current_wal_lsn() - confirmed_flush_lsn, 0)::bigint, "
      "COALESCE(pg_current_wal_lsn() - restart_lsn, 0)::bigint "
      "FROM pg_replication_slots WHERE slot_name = $1",
      {slot});
  if (r.rows() == 0) return std::nullopt;
  SlotInfo s;
  s.name = r.text(0, 0);
  s.plugin = r.text(0, 1);
  s.active = r.boolean(0, 2);
  s.restart_lsn = parse_lsn(r.text(0, 3)).value_or(kInvalidLsn);
  s.confirmed_flush_lsn = parse_lsn(r.text(0, 4)).value_or(kInvalidLsn);
  s.current_wal_lsn = parse_lsn(r.text(0, 5)).value_or(kInvalidLsn);
  s.lag_bytes = r.int64(0, 6);
  s.retained_bytes = r.int64(0, 7);
  return s;
}

void drop_slot(pg::Connection& conn, const std::string& slot) {
  auto info = find_slot(conn, slot);
  if (!info) return;
  if (info->active) {
    throw Error(ErrorKind::Config, fmt::format("replication slot {} is in use by a running client", slot),
                "stop the pg2ch service streaming from it first");
  }
  conn.query("SELECT pg_drop_replication_slot($1)", {slot});
  spdlog::info("dropped replication slot {}", slot);
}

}  // namespace pg2ch::capture::logical
