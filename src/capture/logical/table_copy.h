#pragma once
// Copying tables' rows into the sink: all of them for the initial snapshot (under the pipeline
// slot's snapshot), or some of them again while the pipeline's slot keeps its place (a table
// new in the config, one whose copy was cut short, one that stopped and whose cause was fixed).
//
// A copy again takes a TEMPORARY slot's exported snapshot, like PostgreSQL's tablesync workers:
// its consistent point C is at or after every position the pipeline's stream has read (the slot
// is created after the stream stopped reading), so every change the stream skipped for the
// table is in the copy, and everything after C arrives through the stream (table_gate.h). The
// temporary slot vanishes with its connection; it never holds WAL beyond the copy.
//
// Errors: exceptions (pg2ch::Error); a copy cut short leaves its tables `copying`, and the next
// start copies them again.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capture/capture_mode.h"
#include "capture/logical/replication_slot.h"
#include "capture/logical/snapshot_copier.h"
#include "capture/shared/source_tables.h"
#include "capture/table_sync/table_states.h"
#include "common/lsn.h"
#include "config/config.h"
#include "pipeline/change_sink.h"
#include "state/state_store.h"

namespace pg2ch::capture::logical {

// pg_class.reltuples per table, for the copy's progress (an estimate: -1 when never analysed).
std::vector<std::pair<const pipeline::TableSchema*, std::int64_t>> row_estimates(
    pg::Connection& conn, const std::vector<const pipeline::TableSchema*>& tables);

// A copy reads the columns described before its snapshot; `described_now` (the table described
// under the snapshot's connection) differing from `expected_digest` (table_sync::source_digest)
// means the table was altered in between: a retriable Error, so pg2ch starts again and copies it
// with its new columns.
void check_columns_unchanged(const pipeline::TableSchema& described_now, const std::string& expected_digest);

// Copies `tables` under `snapshot_name`: with the sink's bulk load where it has one (parallel
// streaming INSERTs), else row by row through the sink as one transaction committed at
// `commit_position` (a position that may be acknowledged once the rows are durable). `source`
// (a normal connection) answers the row estimates for the progress. `progress`: the ranges to
// copy, each marked done durably as it ends (through a sink without a bulk load, each range is a
// transaction of its own: snapshot_to_sink.h).
SnapshotResult copy_tables(const config::Config& cfg, pg::Connection& source,
                           const std::vector<const pipeline::TableSchema*>& tables, const std::string& snapshot_name,
                           Lsn commit_position, pipeline::ChangeSink& sink, const std::atomic<bool>& stop,
                           const RunOptions& options, SnapshotProgress* progress = nullptr);

// A whole copy through a sink without a bulk load (Kafka, "both") begins with a TRUNCATE of its
// tables (capture/shared/copy_truncate.h), delivered before the copy's plan is recorded: a kill
// before that takes the copy whole again, this included; one after resumes the ranges not done
// and sends none. Committed below every range's position (copy_snapshot_to_sink commits range k
// of n at `commit_position` - (n - 1 - k)). No-op where no consumer may hold rows of them.
void empty_sink_consumers(pipeline::ChangeSink& sink, const std::vector<const pipeline::TableSchema*>& tables,
                          Lsn commit_position);

// A TEMPORARY slot's exported snapshot made on `replication` (valid while that connection lives
// and runs nothing else), once `tables` are checked to have the columns described at start
// (check_columns_unchanged); nullopt when stopped meanwhile.
std::optional<CreatedSlot> temporary_snapshot(SourceTables& p, pg::Connection& replication,
                                              const std::vector<const pipeline::TableSchema*>& tables,
                                              const std::atomic<bool>& stop, const RunOptions& options);

// The initial snapshot cut short by a kill or a stop, resumed (snapshot_progress.h): the
// recorded ranges not done are copied from a temporary slot's snapshot, tables whose ranges
// no longer hold (rewritten, re-partitioned, new) emptied and copied whole. `slot_position`: the
// pipeline slot's, where the stream starts. nullopt when stopped (the progress so far stays
// recorded).
std::optional<SnapshotResult> resume_snapshot(const config::Config& cfg, SourceTables& p, SnapshotProgress& progress,
                                              Lsn slot_position, pipeline::ChangeSink& sink,
                                              const std::atomic<bool>& stop, const RunOptions& options);

// Where a copy beside the stream records its ranges (snapshot_progress.h): this one, and
// `pg2ch resync` on a running pipeline (online_resync.h), which a kill leaves for the next start.
inline constexpr const char* kCopyAgainProgress = "logical.copy_again";

// Copies `tables` again before the stream starts from `slot_position` (the pipeline slot's
// confirmed position): targets whose columns changed are re-created, the others emptied; states
// go copying → catching_up at the copy's consistent point. A copy of them cut short by a kill
// (here or online) resumes instead: the ranges recorded done stay in their targets, the rest is
// copied from a new snapshot, and the stream, which applies every change of the tables from
// `slot_position` on, sets right what changed in between (snapshot_progress.h). Not when a target
// was created at this start (`targets_created`, or re-created here): it lost those ranges. Either
// route records its ranges: the bulk load as ClickHouse accepts each, a copy through the sink
// (Kafka) as the sink delivers each.
void copy_tables_again(const config::Config& cfg, SourceTables& p, const std::vector<const pipeline::TableSchema*>& tables,
                       Lsn slot_position, pipeline::ChangeSink& sink, table_sync::TableStates& states,
                       state::StateStore& store, const std::vector<const pipeline::TableSchema*>& targets_created,
                       const std::atomic<bool>& stop, const RunOptions& options);

// After a copy: each table it met a value its target cannot hold in (r.refused) is stopped, with
// the value and the row's key; the others go on.
void stop_refused(table_sync::TableStates& states, const SnapshotResult& r);

}  // namespace pg2ch::capture::logical
