#include "capture/outbox/outbox_copy.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

// The snapshot copy itself is the logical capture's (bulk load, or row by row through the sink).
#include "capture/logical/table_copy.h"

namespace pg2ch::capture::outbox {

using table_sync::TablePhase;

std::vector<const pipeline::TableSchema*> tables_to_copy(const table_sync::TableStates& states,
                                                         const state::StateStore& store, bool drained_before) {
  std::vector<const pipeline::TableSchema*> out;
  bool any_recorded = false;
  for (const auto* t : states.tables()) any_recorded = any_recorded || store.get(table_sync::table_state_key(*t, "phase"));
  for (const auto* t : states.tables()) {
    const auto phase = states.phase(*t);
    const bool requested = store.get(table_sync::resync_request_key(*t)).has_value();
    const bool never_copied = phase == TablePhase::Init && (any_recorded || !drained_before);
    if (requested || never_copied || phase == TablePhase::Copying) out.push_back(t);
  }
  return out;
}

void copy_tables(const config::Config& cfg, SourceTables& p, const std::vector<const pipeline::TableSchema*>& tables,
                 table_sync::TableStates& states, state::StateStore& store, pipeline::ChangeSink& sink,
                 const std::atomic<bool>& stop, const RunOptions& options) {
  if (tables.empty()) return;
  std::string names;
  for (const auto* t : tables) names += (names.empty() ? "" : ", ") + t->qualified_source();
  spdlog::info("outbox: copying the rows that exist in {} table(s) before draining their events: {}", tables.size(),
               names);
  states.set(tables, TablePhase::Copying);
  for (const auto* t : tables) {
    store.erase(table_sync::resync_request_key(*t));
    p.targets->truncate(*t);
  }
  // One snapshot for every table, taken now: after the triggers were verified installed.
  pg::Connection holder = connect_source(cfg);
  holder.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const std::string snapshot = holder.query("SELECT pg_export_snapshot()").text(0, 0);
  const auto r = logical::copy_tables(cfg, p.source, tables, snapshot, 0, sink, stop, options);
  holder.exec("COMMIT");
  if (stop.load()) return;  // cut short: copied again at the next start
  sink.flush();
  states.set(tables, TablePhase::Streaming);
  spdlog::info("outbox: copied {} rows ({:.1f} MB) in {:.2f} s; draining their events from here", r.rows, r.bytes / 1e6,
               r.seconds);
}

}  // namespace pg2ch::capture::outbox
