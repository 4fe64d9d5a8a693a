#include "capture/logical/table_copy.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "capture/logical/partition_watch.h"
#include "capture/logical/snapshot_to_sink.h"
#include "capture/logical/table_gate.h"
#include "capture/shared/copy_truncate.h"
#include "pg/catalog.h"

namespace pg2ch::capture::logical {

using table_sync::TablePhase;

std::vector<std::pair<const pipeline::TableSchema*, std::int64_t>> row_estimates(
    pg::Connection& conn, const std::vector<const pipeline::TableSchema*>& tables) {
  std::vector<std::pair<const pipeline::TableSchema*, std::int64_t>> out;
  for (const auto* t : tables) {
    // A partitioned table's own reltuples is -1 (or a stale ANALYZE's): its leaves' sum.
    pg::Result r = conn.query(
        "SELECT CASE WHEN c.relkind <> 'p' THEN c.reltuples::bigint ELSE "
        "(SELECT CASE WHEN bool_and(l.reltuples < 0) THEN -1 ELSE COALESCE(sum(GREATEST(l.reltuples, 0)), 0) END::bigint "
        "FROM pg_partition_tree(c.oid) p JOIN pg_class l ON l.oid = p.relid WHERE p.isleaf) END "
        "FROM pg_class c WHERE c.oid = $1",
        {std::to_string(t->relation_oid)});
    out.emplace_back(t, r.rows() > 0 ? r.int64(0, 0) : -1);
  }
  return out;
}

void check_columns_unchanged(const pipeline::TableSchema& described_now, const std::string& expected_digest) {
  if (table_sync::source_digest(described_now) == expected_digest) return;
  throw Error(ErrorKind::Connection,
              fmt::format("the columns of {} changed while its copy started", described_now.qualified_source()),
              "pg2ch starts again and copies it with its new columns", true);
}

SnapshotResult copy_tables(const config::Config& cfg, pg::Connection& source,
                           const std::vector<const pipeline::TableSchema*>& tables, const std::string& snapshot_name,
                           Lsn commit_position, pipeline::ChangeSink& sink, const std::atomic<bool>& stop,
                           const RunOptions& options, SnapshotProgress* progress) {
  if (options.observer) options.observer->copy_started(row_estimates(source, tables));
  struct CopyEnded {
    pipeline::PipelineObserver* observer;
    ~CopyEnded() {
      if (observer) observer->copy_finished();
    }
  } copy_ended{options.observer};
  if (pipeline::BulkLoad* bulk = sink.bulk_load()) {
    SnapshotCopier copier(cfg, tables, snapshot_name, *bulk);
    return copier.run(cfg.logical.snapshot_workers, stop, options.on_alive, options.observer, progress);
  }
  // A sink without a bulk load (Kafka, "both") gets the existing rows as changes (Kafka: op
  // "r"), acknowledged like changes, after the caller's TRUNCATE through the sink
  // (empty_sink_consumers), which drops what earlier messages left consumers.
  return copy_snapshot_to_sink(cfg, tables, snapshot_name, commit_position, sink, stop, options.on_alive,
                               options.observer, progress);
}

void empty_sink_consumers(pipeline::ChangeSink& sink, const std::vector<const pipeline::TableSchema*>& tables,
                          Lsn commit_position) {
  constexpr Lsn kBelowEveryRange = Lsn{1} << 32;
  const Lsn position = commit_position > kBelowEveryRange ? commit_position - kBelowEveryRange : 1;
  const auto sent = truncate_through_sink(sink, tables, position);
  if (sent == 0) return;
  require_durable(sink, position, "the TRUNCATE that starts a copy");
  spdlog::info("a TRUNCATE of {} table(s) to copy was sent through the sink first, so its consumers drop the rows "
               "earlier messages left them",
               sent);
}

std::optional<CreatedSlot> temporary_snapshot(SourceTables& p, pg::Connection& replication,
                                              const std::vector<const pipeline::TableSchema*>& tables,
                                              const std::atomic<bool>& stop, const RunOptions& options) {
  // Unique while it lives (named after its own session), short enough for any slot name.
  const std::string slot = fmt::format("pg2ch_copy_{}", PQbackendPID(replication.get()));
  auto created = create_slot_with_snapshot(replication, p.source, slot, stop, options.on_alive, true);
  if (!created) return std::nullopt;
  // The copy reads the columns described at start; a table altered since would be copied with
  // columns its rows no longer have. Start over then (the next start describes it anew).
  const auto& caps = p.targets->type_capabilities();
  for (const auto* t : tables) {
    pg::TableRef ref{t->relation_oid, t->source_schema, t->source_name, nullptr};
    for (const auto& r : p.refs) {
      if (r.oid == t->relation_oid) ref = r;
    }
    check_columns_unchanged(pg::describe_table(p.source, ref, caps, p.describe_options), table_sync::source_digest(*t));
  }
  return created;
}

namespace {

// The plan of a copy cut short, resumed for `tables` under a new snapshot at `consistent_point`
// (snapshot_progress.h); the targets of tables whose ranges no longer hold are emptied.
void resume_plan(const config::Config& cfg, SourceTables& p, SnapshotProgress& progress,
                 const std::vector<const pipeline::TableSchema*>& tables, Lsn consistent_point, const char* what) {
  const auto again = progress.resume(p.source, tables, resolve_workers(cfg),
                                     max_range_blocks(p.source, cfg.logical.snapshot_range_mb));
  spdlog::info("{} resumed: {} of {} range(s) ({} rows) were copied before it was cut short; the {} left are copied "
               "from a new snapshot (at {}), the stream then applies every change from where the first copy began",
               what, progress.ranges_done(), progress.size(), progress.rows_done(), progress.pending().size(),
               format_lsn(consistent_point));
  for (const auto* t : again) {
    spdlog::info("{} is copied whole: it was rewritten, re-partitioned or added since the copy was cut short",
                 t->qualified_source());
    p.targets->truncate(*t);
  }
}

}  // namespace

std::optional<SnapshotResult> resume_snapshot(const config::Config& cfg, SourceTables& p, SnapshotProgress& progress,
                                              Lsn slot_position, pipeline::ChangeSink& sink,
                                              const std::atomic<bool>& stop, const RunOptions& options) {
  pg::Connection replication = connect_source(cfg, true);
  const auto tables = p.table_ptrs();
  const auto created = temporary_snapshot(p, replication, tables, stop, options);
  if (!created) return std::nullopt;
  resume_plan(cfg, p, progress, tables, created->consistent_point, "initial snapshot");
  SnapshotResult r = copy_tables(cfg, p.source, tables, created->snapshot_name, slot_position, sink, stop, options,
                                 &progress);
  if (stop.load()) return std::nullopt;
  return r;
}

void copy_tables_again(const config::Config& cfg, SourceTables& p, const std::vector<const pipeline::TableSchema*>& tables,
                       Lsn slot_position, pipeline::ChangeSink& sink, table_sync::TableStates& states,
                       state::StateStore& store, const std::vector<const pipeline::TableSchema*>& targets_created,
                       const std::atomic<bool>& stop, const RunOptions& options) {
  if (tables.empty()) return;
  std::string names;
  for (const auto* t : tables) names += (names.empty() ? "" : ", ") + t->qualified_source();
  spdlog::info("copying {} table(s) again while the others keep their place: {}", tables.size(), names);

  // A target made for other columns (the table's columns or its config changed) is re-created;
  // any other is only emptied, keeping what its owner set on it (TTL, settings).
  std::vector<const pipeline::TableSchema*> recreate;
  for (const auto* t : tables) {
    if (states.target_made_for_other_columns(*t)) recreate.push_back(t);
  }
  SnapshotProgress progress(store, kCopyAgainProgress);
  // Read before the states below say copying: resumable() asks what they were. A target gone
  // lost the ranges done (asked before ensure() below makes it anew); a sink that keeps no
  // tables (Kafka) loses nothing it delivered. A plan with no range done keeps nothing, and a
  // copy beside the stream through the sink records its plan before its TRUNCATE is delivered
  // (watermark_copy.h): taken whole, the TRUNCATE is sent again.
  const bool resume = recreate.empty() && targets_created.empty() && progress.some_done_recorded() &&
                      progress.resumable(states, tables) &&
                      std::all_of(tables.begin(), tables.end(), [&](auto* t) {
                        return !p.targets->keeps_tables() || p.targets->column_types(*t).has_value();
                      });
  if (!resume) progress.clear();  // before any target is emptied (snapshot_progress.h)
  // Dropped before the state records the new columns' target (online_resync.cpp says why).
  for (const auto* t : recreate) {
    spdlog::info("re-creating the target of {}: its columns changed", t->qualified_source());
    p.targets->drop(*t);
  }
  states.set(tables, TablePhase::Copying);
  p.targets->ensure(tables);  // creates the re-created ones and any that went missing
  if (!resume) {
    for (const auto* t : tables) p.targets->truncate(*t);
  }

  // A resumed copy keeps the partitions recorded when it began (partition_watch.h).
  if (!resume) record_leaves_before_copy(p.source, store, tables);
  pg::Connection replication = connect_source(cfg, true);
  const auto created = temporary_snapshot(p, replication, tables, stop, options);
  if (!created) return;  // stopped: the tables stay copying

  // Recorded range by range through either route: a bulk load marks a range done once ClickHouse
  // accepted it, a copy through the sink (Kafka) once the sink delivered it (snapshot_to_sink.h).
  if (resume) {
    resume_plan(cfg, p, progress, tables, created->consistent_point, "copy again");
  } else {
    empty_sink_consumers(sink, tables, slot_position);
    progress.start(p.source, tables, resolve_workers(cfg), max_range_blocks(p.source, cfg.logical.snapshot_range_mb));
  }

  const SnapshotResult r =
      copy_tables(cfg, p.source, tables, created->snapshot_name, slot_position, sink, stop, options, &progress);
  if (stop.load()) return;  // the tables stay copying, their ranges done recorded
  spdlog::info("copied {} table(s) again: {} rows, {:.1f} MB in {:.2f} s; they stream once {} is durable",
               tables.size(), r.rows, r.bytes / 1e6, r.seconds, format_lsn(created->consistent_point));
  progress.clear();  // before the tables leave copying (snapshot_progress.h)
  states.set(tables, TablePhase::CatchingUp, created->consistent_point);
  stop_refused(states, r);
}

void stop_refused(table_sync::TableStates& states, const SnapshotResult& r) {
  for (const auto& x : r.refused) {
    auto why = bad_value_stop(*x.table, x.error, x.key);
    states.stop(*x.table, std::move(why.reason), std::move(why.fix));
  }
}

}  // namespace pg2ch::capture::logical
