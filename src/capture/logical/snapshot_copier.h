#pragma once
// The initial copy: every configured table read under the replication slot's exported
// snapshot, so the copy and the stream meet exactly at the slot's consistent point.
//
// Design note: tables are cut into block ranges (`ctid >= '(a,0)' AND ctid < '(b,0)'`, a TID
// range scan since PostgreSQL 14) and a pool of N workers takes ranges from a shared list. Each
// worker opens its own connection, imports the snapshot (REPEATABLE READ + SET TRANSACTION
// SNAPSHOT) and turns each range (snapshot_plan.h) into one request of the sink's bulk load (pipeline/bulk_load.h;
// for ClickHouse a streaming INSERT): `COPY (SELECT cols ...) TO STDOUT (FORMAT binary)` is
// parsed and re-encoded as RowBinary chunk by chunk while the sink sends it, so memory stays at
// one chunk per worker however large the table. Rows carry version 0 (see
// kSnapshotVersion). A partitioned table is cut by its leaf partitions; the plan reads the
// partitions at its start, after the snapshot was exported: a partition attached in between is
// copied although the snapshot's table did not hold it yet (its attach copies the table again
// anyway, partition_watch.h), one detached in between is not (its rows are no longer the
// table's). With a SnapshotProgress the plan is the recorded one, each range is marked done once
// the sink accepted it, and a run after a kill copies only the ranges not done
// (snapshot_progress.h); without one (a copy beside the stream) a failed copy is taken again
// whole — re-inserting rows is harmless because ReplacingMergeTree collapses them.
// A row whose value its target cannot hold (a data or schema error from the encoder) ends the
// copy of its table only: the table is reported in SnapshotResult::refused (the caller stops it,
// naming the value and the row's key), its other ranges are skipped, the other tables are copied.
#include <atomic>
#include <functional>
#include <cstdint>
#include <string>
#include <vector>

#include "capture/logical/snapshot_progress.h"
#include "common/error.h"
#include "config/config.h"
#include "pg/connection.h"
#include "pipeline/bulk_load.h"
#include "pipeline/pipeline_observer.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::logical {

// `COPY (SELECT <replicated columns> FROM t [WHERE ctid range]) TO STDOUT (FORMAT binary)`;
// end_block -1 = to the end of the table. `leaf` (quoted schema.name of a leaf partition of a
// partitioned `table`) reads `FROM ONLY leaf` instead: its share of the table's rows.
std::string snapshot_copy_statement(pg::Connection& conn, const pipeline::TableSchema& table,
                                    std::int64_t first_block = 0, std::int64_t end_block = -1,
                                    const std::string& leaf = {});

// A table whose copy met a row its target cannot hold.
struct RefusedTable {
  const pipeline::TableSchema* table;
  Error error;      // names the column, its ClickHouse type and the value
  std::string key;  // the row's key, as pipeline::key_text prints it
};

struct SnapshotResult {
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
  std::vector<RefusedTable> refused;  // at most one entry per table
};

// logical.snapshot_workers as a count: 0 = chosen (snapshot_workers.h).
int resolve_workers(const config::Config& cfg);

class SnapshotCopier {
 public:
  // `load` is the sink's bulk-load capability (ChangeSink::bulk_load()).
  SnapshotCopier(const config::Config& cfg, std::vector<const pipeline::TableSchema*> tables, std::string snapshot_name,
                 pipeline::BulkLoad& load);

  // Runs the copy with `workers` threads (0 = number of cores). Throws the first worker error.
  // When `stop` is set it returns soon (within one 1 MB chunk per worker) with what was copied.
  // `alive` (RunOptions::alive) is called from the workers as chunks go out, and `observer`
  // (may be null) hears each chunk's rows. `progress` (may be null): its pending ranges are
  // copied, each marked done as it ends; without one the tables are planned here.
  SnapshotResult run(int workers, const std::atomic<bool>& stop, const std::function<void()>& alive = {},
                     pipeline::PipelineObserver* observer = nullptr, SnapshotProgress* progress = nullptr);

 private:
  const config::Config& cfg_;
  std::vector<const pipeline::TableSchema*> tables_;
  std::string snapshot_name_;
  pipeline::BulkLoad& load_;
};

}  // namespace pg2ch::capture::logical
