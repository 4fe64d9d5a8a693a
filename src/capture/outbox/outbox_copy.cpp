#include "capture/outbox/outbox_copy.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

// The snapshot copy itself is the logical capture's (bulk load, or row by row through the sink).
#include "capture/logical/table_copy.h"
#include "capture/outbox/copy_lock.h"
#include "capture/outbox/outbox_sql.h"
#include "capture/outbox/source_transaction.h"
#include "capture/shared/attached_partitions.h"
#include "capture/shared/copy_truncate.h"
#include "common/crash_point.h"

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

namespace {

// A whole copy takes every change committed before its snapshot, so the tables' events and
// truncates queued until then say nothing it will not hold; and applied over it they can say
// something wrong: a row payload event of an older shape lacks a column renamed or re-created
// since (it would write NULL over the copied value, at a version above the copy's). Deleted in
// their own transaction before the target is emptied and the snapshot taken: an event another
// drainer has claimed holds its lock until that drainer wrote it to ClickHouse and deleted it,
// so no batch of these tables lands after the emptying. What is committed after this DELETE has
// an event left in the queue, applied after the copy at its higher version. A resumed copy
// deletes nothing: its ranges copied from the first snapshot need the events since.
// A copy request's copy keeps its requests (up to `kept_requests`): queued, they hold back other
// drainers (copy_lock.h) even after a crash.
void drop_superseded_events(pg::Connection& source, const OutboxNames& names,
                            const std::vector<const pipeline::TableSchema*>& tables, Lsn kept_requests) {
  std::string oids;
  for (const auto* t : tables) oids += (oids.empty() ? "" : ",") + std::to_string(t->relation_oid);
  SourceTransaction tx(source);
  const auto events = source.query(fmt::format("DELETE FROM {} WHERE rel = ANY ('{{{}}}'::pg_catalog.oid[])",
                                               names.events_table(), oids));
  const auto truncates = source.query(
      fmt::format("DELETE FROM {} WHERE rel = ANY ('{{{}}}'::pg_catalog.oid[]) AND NOT (part IS NOT NULL AND lsn <= "
                  "$1::pg_catalog.pg_lsn)",
                  names.truncates_table(), oids),
      {format_lsn(kept_requests)});
  tx.commit();
  const auto deleted = [](const pg::Result& r) { return std::string(PQcmdTuples(r.get())); };
  spdlog::info("outbox: {} queued event(s) and {} truncate(s) of the table(s) to copy deleted: the copy holds them",
               deleted(events), deleted(truncates));
}

}  // namespace

void copy_tables(const config::Config& cfg, SourceTables& p, const std::vector<const pipeline::TableSchema*>& tables,
                 table_sync::TableStates& states, state::StateStore& store, pipeline::ChangeSink& sink,
                 const std::atomic<bool>& stop, const RunOptions& options, bool targets_created,
                 const CopyRequests* requests, const std::function<void()>& delivered) {
  if (tables.empty()) return;
  const OutboxNames outbox = outbox_names(cfg);
  const CopyLock lock(p.source, outbox, tables);
  std::string names;
  for (const auto* t : tables) names += (names.empty() ? "" : ", ") + t->qualified_source();
  logical::SnapshotProgress progress(store, "outbox.snapshot");
  // A copy cut short resumes (logical/snapshot_progress.h) unless a resync asks for a table anew.
  bool requested = false;
  for (const auto* t : tables) requested = requested || store.get(table_sync::resync_request_key(*t)).has_value();
  const bool resume =
      sink.bulk_load() && !requested && !targets_created && !requests && progress.resumable(states, tables);
  spdlog::info("outbox: {} the rows that exist in {} table(s) before draining their events: {}",
               resume ? "resuming the copy of" : "copying", tables.size(), names);
  if (!resume) {
    progress.clear();
    states.set(tables, TablePhase::Copying);
    // With a Kafka sink the queued events stay and are applied after the copy at their versions
    // (another drainer may hold some and send them before the copy's TRUNCATE is delivered).
    if (cfg.sink == "clickhouse") {
      drop_superseded_events(p.source, outbox, tables, requests ? requests->upto : kInvalidLsn);
    }
    for (const auto* t : tables) store.erase(table_sync::resync_request_key(*t));
    for (const auto* t : tables) p.targets->truncate(*t);
    // Through a sink without a bulk load (never resumed: every copy there is whole) consumers
    // drop what earlier messages left them (capture/shared/copy_truncate.h). Position 0, as the
    // copy's rows: a higher one would raise the sink's durable position above the drainer's
    // batch counter and void its checks. Confirmed before the snapshot: an event committed after
    // it that another drainer sends before an unconfirmed TRUNCATE lands would be emptied by it
    // and be missing from the copy. A copy request's drainer sent and confirmed it already
    // (partition_copies.h).
    if (!requests && truncate_through_sink(sink, tables, 0) > 0 && delivered) delivered();
  }
  // The plan reads relation sizes, which locks every partition (AccessShare) until its
  // transaction ends; so on a connection of its own, out of any transaction. On p.source a copy
  // request's plan would hold those locks in the drain transaction, idle while the workers copy:
  // a TRUNCATE of a partition then waits for it, a worker reaching that partition waits behind
  // the TRUNCATE, and nothing PostgreSQL can see as a deadlock ends the wait.
  pg::Connection planner = connect_source(cfg);
  // The partition watch's first look compares with these (a resumed copy keeps the ones recorded
  // when it began).
  if (!resume) record_partitions_before_copy(planner, store, tables);
  // One snapshot for every table, taken now: after the triggers were verified installed.
  pg::Connection holder = connect_source(cfg);
  holder.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const std::string snapshot = holder.query("SELECT pg_export_snapshot()").text(0, 0);
  if (sink.bulk_load()) {
    const int workers = logical::resolve_workers(cfg);
    const auto range_blocks = logical::max_range_blocks(planner, cfg.logical.snapshot_range_mb);
    if (!resume) {
      progress.start(planner, tables, workers, range_blocks);
    } else {
      const auto again = progress.resume(planner, tables, workers, range_blocks);
      spdlog::info("outbox: {} of {} range(s) ({} rows) were copied before the copy was cut short; the {} left are "
                   "copied from a new snapshot",
                   progress.ranges_done(), progress.size(), progress.rows_done(), progress.pending().size());
      states.set(tables, TablePhase::Copying);  // the new ones too
      for (const auto* t : again) {
        spdlog::info("outbox: {} is copied whole: it was rewritten, re-partitioned or added since the copy began",
                     t->qualified_source());
        p.targets->truncate(*t);
      }
    }
  }
  const auto r = logical::copy_tables(cfg, planner, tables, snapshot, 0, sink, stop, options,
                                      sink.bulk_load() ? &progress : nullptr);
  holder.exec("COMMIT");
  if (stop.load()) return;  // cut short: resumed at the next start
  sink.flush();
  // The flush is bounded: `streaming` only once Kafka confirmed the TRUNCATE and every row, else
  // a crash would leave consumers without the copy and the table never copied again.
  if (requests) {
    requests->confirm();
  } else if (delivered && !sink.bulk_load()) {
    delivered();
  }
  states.set(tables, TablePhase::Streaming);
  progress.clear();
  crash_point("copy_done");  // tests: the copy done, the partition watch not looked yet
  spdlog::info("outbox: copied {} rows ({:.1f} MB) in {:.2f} s; draining their events from here", r.rows, r.bytes / 1e6,
               r.seconds);
}

}  // namespace pg2ch::capture::outbox
