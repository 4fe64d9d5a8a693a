#pragma once
// The logical replication slot: created (with an exported snapshot for the initial copy) on a
// replication connection, inspected and dropped over a normal one.
#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "common/lsn.h"
#include "pg/connection.h"

namespace pg2ch::capture::logical {

struct CreatedSlot {
  std::string name;
  Lsn consistent_point = kInvalidLsn;
  std::string snapshot_name;  // valid until the next command on the creating connection
};

struct SlotInfo {
  std::string name;
  std::string plugin;
  std::string database;
  bool active = false;
  Lsn restart_lsn = kInvalidLsn;
  Lsn confirmed_flush_lsn = kInvalidLsn;
  Lsn current_wal_lsn = kInvalidLsn;
  std::int64_t lag_bytes = 0;         // current WAL position - confirmed flush
  std::int64_t retained_bytes = 0;    // current WAL position - restart_lsn (WAL kept for the slot)
  std::string wal_status;             // reserved | extended | unreserved | lost
};

// On a `replication=database` connection: CREATE_REPLICATION_SLOT ... LOGICAL pgoutput
// (SNAPSHOT 'export'). PostgreSQL finishes it only once every transaction that was open when it
// started has ended, which may take forever (a session idle in transaction, an orphaned prepared
// transaction). So the wait is watched: after a few seconds, and then every 30 s, it logs which
// sessions and prepared transactions it waits for (pid, age, state; asked over `observer`, a
// normal connection), and a stop (SIGTERM) cancels it: nullopt then, nothing created.
// A TEMPORARY slot (`temporary`) lives only as long as `replication_conn`: a per-table copy
// needs its snapshot and consistent point, never its stream.
std::optional<CreatedSlot> create_slot_with_snapshot(pg::Connection& replication_conn, pg::Connection& observer,
                                                     const std::string& slot, const std::atomic<bool>& stop,
                                                     const std::function<void()>& alive = {}, bool temporary = false);

std::optional<SlotInfo> find_slot(pg::Connection& conn, const std::string& slot);

// A slot pg2ch can stream from: a logical pgoutput slot of `database`. Another plugin's slot, or
// one of another database, belongs to some other consumer: Error(Config) naming what it is.
void check_slot_usable(const SlotInfo& slot, const std::string& database);
// Drops the slot if it exists; an active slot is an Error (another pg2ch is streaming from it).
void drop_slot(pg::Connection& conn, const std::string& slot);

}  // namespace pg2ch::capture::logical
