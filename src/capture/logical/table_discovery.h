#pragma once
// Tables that appear under a `schema.*` entry while the pipeline runs (logical mode), and tables
// that go away.
//
// Every few seconds the loop asks the catalog which tables each `schema.*` entry matches now
// (capture/shared/new_tables.h, which the other modes share). A new one is described, added to the publication, given its state (init), its gate entry and
// its target, and handed to the online copy (online_resync.h), which copies it while every table
// streams and then streams it. The publication comes first: changes of the table committed after
// ALTER PUBLICATION ... ADD TABLE are decoded, the ones before are in the copy, whose snapshot is
// taken later still; the gate applies the table's changes from the moment the copy starts, and
// what the stream carried of it before that is in the copy too (online_resync.h's argument). A
// crash anywhere: the next start finds the table through the same `schema.*` entry, init or
// copying, and copies it (table_copy.h).
//
// A table that cannot be replicated (no primary key or usable replica identity, no SELECT, a
// table pg2ch may not add to the publication) is reported once and left out,
// before the publication is touched; the pipeline goes on. With a sink that has no bulk load
// (Kafka), the copy goes in the stream's order (watermark_copy.h). On PostgreSQL minors before the fix for
// invalidations of concurrent transactions (13.21, 14.18, 15.13, 16.9, 17.5), a transaction that
// began before ALTER PUBLICATION and committed after it has its changes of the new table left
// out of the stream, so there new tables are only copied at the next start.
//
// A table dropped at the source leaves the publication with it: its state becomes stopped, saying
// it was dropped, and its target is left in place (what it held stays queryable); with
// logical.on_table_dropped = "drop" its target is dropped and the table forgotten instead
// (capture/shared/dropped_table.h). A table dropped
// and created again under the same name (a new oid) shares the old one's target and state keys:
// the old one retires first (its gate closed, what the sink holds of it discarded, its copy
// forgotten), then the new one joins and is copied, its target emptied.
//
// Errors: exceptions (pg2ch::Error) for the source connection; a table that cannot be described
// is a warning.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <vector>
#include <string>

#include "capture/logical/online_resync.h"
#include "capture/logical/table_gate.h"
#include "capture/shared/new_tables.h"
#include "capture/shared/source_tables.h"
#include "capture/table_sync/table_states.h"
#include "config/config.h"
#include "pipeline/change_sink.h"

namespace pg2ch::capture::logical {

class TableDiscovery {
 public:
  TableDiscovery(const config::Config& cfg, SourceTables& p, table_sync::TableStates& states, TableGate& gate,
                 OnlineResync& copies, pipeline::ChangeSink& sink, std::string publication);

  // On the loop's thread, every turn (it looks every few seconds).
  void poll();

  // `table` left the publication and its oid no longer exists: dropped (it stops, its target
  // stays; or both go, by logical.on_table_dropped), or dropped and created again under its name
  // (the new one joins, the old one retires).
  void gone(const pipeline::TableSchema& table);

  // Whether the table of `oid` still exists (a table missing from the publication may have been
  // dropped), and under which name now.
  static std::optional<std::string> current_name(pg::Connection& conn, std::uint32_t oid);
  // Whether the server decodes every change of a table added to the publication while running
  // (see join()); older minor versions get new tables copied at the next start instead.
  static bool decodes_new_tables_exactly(pg::Connection& conn);

 private:
  void join(const pg::TableRef& ref);
  const pipeline::TableSchema* same_name(const pg::TableRef& ref) const;
  void retire(const pipeline::TableSchema& old);
  // Stops applying `old` and lets go of it (kept alive: the sink and the observers may still
  // hold its address); its state is the caller's.
  void leave(const pipeline::TableSchema& old);

  const config::Config& cfg_;
  SourceTables& p_;
  table_sync::TableStates& states_;
  TableGate& gate_;
  OnlineResync& copies_;
  pipeline::ChangeSink& sink_;
  std::string publication_;
  bool exact_;
  NewTables found_;
  std::vector<std::unique_ptr<pipeline::TableSchema>> retired_;
};

}  // namespace pg2ch::capture::logical
