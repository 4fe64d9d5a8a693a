#include "capture/logical/replication_slot.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "pg/socket_wait.h"

namespace pg2ch::capture::logical {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kFirstWaitReport = std::chrono::seconds(3);
constexpr auto kWaitReportEvery = std::chrono::seconds(30);

// What CREATE_REPLICATION_SLOT waits for: transactions with an xid, oldest first, and prepared
// transactions. No query text: it may hold values.
std::string describe_blockers(pg::Connection& observer, int own_pid) {
  std::string out;
  pg::Result open = observer.query(
      "SELECT pid, COALESCE(usename, '?'), COALESCE(datname, '?'), COALESCE(state, '?'), "
      "COALESCE(NULLIF(application_name, ''), '-'), "
      "COALESCE(extract(epoch FROM now() - xact_start)::bigint, 0) "
      "FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() AND pid <> $1 "
      "ORDER BY xact_start LIMIT 5",
      {std::to_string(own_pid)});
  for (int i = 0; i < open.rows(); ++i) {
    if (!out.empty()) out += "; ";
    out += fmt::format("pid {} (user {}, database {}, application {}, {}, transaction open {} s)", open.text(i, 0),
                       open.text(i, 1), open.text(i, 2), open.text(i, 4), open.text(i, 3), open.text(i, 5));
  }
  pg::Result prepared = observer.query(
      "SELECT gid, owner, database, extract(epoch FROM now() - prepared)::bigint FROM pg_prepared_xacts "
      "ORDER BY prepared LIMIT 5");
  for (int i = 0; i < prepared.rows(); ++i) {
    if (!out.empty()) out += "; ";
    out += fmt::format("prepared transaction '{}' (owner {}, database {}, prepared {} s ago: COMMIT PREPARED or "
                       "ROLLBACK PREPARED it)",
                       prepared.text(i, 0), prepared.text(i, 1), prepared.text(i, 2), prepared.text(i, 3));
  }
  return out.empty() ? "no open transaction visible to this role (pg_stat_activity needs pg_read_all_stats)" : out;
}

Error slot_error(pg::Result& r, const std::string& slot) {
  const std::string state = r.sqlstate();
  if (state == "42710") {
    return Error(ErrorKind::Schema, fmt::format("replication slot {} already exists", slot),
                 "another pipeline uses this slot name: set logical.slot to a unique name, or drop it with "
                 "`pg2ch teardown`");
  }
  if (state == "53400") {
    return Error(ErrorKind::Config, fmt::format("cannot create replication slot {}: {}", slot, r.error_message()),
                 "raise max_replication_slots in postgresql.conf (restart needed) or drop unused slots");
  }
  if (state == "55000") {
    return Error(ErrorKind::Config, fmt::format("cannot create replication slot {}: {}", slot, r.error_message()),
                 "set wal_level = logical and restart PostgreSQL");
  }
  return pg::error_from_result(r, "creating replication slot " + slot);
}

// Cancels the running command and reads what is left, so the connection is idle again.
void cancel_and_drain(PGconn* c) {
  if (PGcancel* cancel = PQgetCancel(c)) {
    char err[256];
    (void)PQcancel(cancel, err, sizeof err);
    PQfreeCancel(cancel);
  }
  while (PGresult* r = PQgetResult(c)) PQclear(r);
}

}  // namespace

std::optional<CreatedSlot> create_slot_with_snapshot(pg::Connection& replication_conn, pg::Connection& observer,
                                                     const std::string& slot, const std::atomic<bool>& stop,
                                                     const std::function<void()>& alive, bool temporary) {
  PGconn* c = replication_conn.get();
  const std::string sql = fmt::format("CREATE_REPLICATION_SLOT {}{} LOGICAL pgoutput (SNAPSHOT 'export')",
                                      replication_conn.quote_identifier(slot), temporary ? " TEMPORARY" : "");
  if (PQsendQuery(c, sql.c_str()) == 0) throw pg::error_from_connection(c, "creating replication slot " + slot);
  const auto started = Clock::now();
  auto next_report = started + kFirstWaitReport;
  while (PQisBusy(c)) {
    if (alive) alive();  // waiting on the server, and saying whom for: not stuck
    if (stop.load()) {
      cancel_and_drain(c);
      spdlog::info("stopped while creating replication slot {}: nothing was created", slot);
      return std::nullopt;
    }
    pg::wait_for_input(c, std::chrono::milliseconds(200), "creating replication slot " + slot);
    if (Clock::now() >= next_report) {
      next_report = Clock::now() + kWaitReportEvery;
      spdlog::warn("creating replication slot {} has waited {} s for transactions that were open when it started to "
                   "end: {}",
                   slot, std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count(),
                   describe_blockers(observer, PQbackendPID(c)));
    }
  }
  pg::Result r(PQgetResult(c));
  while (PGresult* rest = PQgetResult(c)) PQclear(rest);
  if (!r.ok()) throw slot_error(r, slot);
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
      "SELECT slot_name, COALESCE(plugin, ''), active, restart_lsn, confirmed_flush_lsn, pg_current_wal_lsn(), "
      "COALESCE(pg_current_wal_lsn() - confirmed_flush_lsn, 0)::bigint, "
      "COALESCE(pg_current_wal_lsn() - restart_lsn, 0)::bigint, COALESCE(wal_status, ''), COALESCE(database, '') "
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
  s.wal_status = r.text(0, 8);
  s.database = r.text(0, 9);
  return s;
}

void check_slot_usable(const SlotInfo& slot, const std::string& database) {
  const char* hint = "that slot belongs to another consumer: set logical.slot to a name of pg2ch's own";
  if (slot.plugin != "pgoutput") {
    throw Error(ErrorKind::Config,
                fmt::format("replication slot {} is not pg2ch's: it is {} with plugin '{}' (pg2ch uses pgoutput)",
                            slot.name, slot.database.empty() ? "a physical slot" : "a logical slot",
                            slot.plugin),
                hint);
  }
  if (slot.database != database) {
    throw Error(ErrorKind::Config,
                fmt::format("replication slot {} is not pg2ch's: it decodes database {}, not {}", slot.name,
                            slot.database, database),
                hint);
  }
}

void drop_slot(pg::Connection& conn, const std::string& slot) {
  auto info = find_slot(conn, slot);
  if (!info) return;
  if (info->active) {
    // Retriable: after a lost connection the server may hold the slot for our old session until
    // it notices (wal_sender_timeout, TCP keepalives). Another process really streaming from it
    // keeps this retrying with this message in the log.
    throw Error(ErrorKind::Config, fmt::format("replication slot {} is in use by a running client", slot),
                "stop any other pg2ch streaming from it; a connection of this pg2ch that was lost is released "
                "by the server after wal_sender_timeout",
                true);
  }
  conn.query("SELECT pg_drop_replication_slot($1)", {slot});
  spdlog::info("dropped replication slot {}", slot);
}

}  // namespace pg2ch::capture::logical
