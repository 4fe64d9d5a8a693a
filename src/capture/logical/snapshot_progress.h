#pragma once
// The initial snapshot's progress, durable per range, so that a copy cut short by a kill (or a
// stop) resumes where it was instead of starting over from zero.
//
// What is persisted (state store, under a prefix: "logical.snapshot", "outbox.snapshot"):
// "<prefix>.plan", the ranges of every table (snapshot_plan.h) with each table's fingerprint,
// written before the first range is copied; and "<prefix>.done", the ranges whose INSERT
// ClickHouse accepted, with their rows, written as each one ends. Both are erased once the copy
// is done.
//
// Design note — why a resumed copy is exact although its snapshot is another one. The first run
// copies under the pipeline slot's exported snapshot S0 (consistent point C0). An exported snapshot
// dies with its connection, so after a kill the ranges not done are copied under a new snapshot
// S1, a temporary slot's (consistent point C1 > C0), while the pipeline slot stays at C0 and the
// stream starts from there. Copied rows carry version 0 either way. A key whose row is the same at
// C0 and C1 is right whichever copy holds it, or both (same key, same version: FINAL keeps one);
// a key whose row differs was changed by a transaction committed between C0 and C1, which the
// stream applies with its LSN as version, above 0, so it wins (table_gate.h's argument with X =
// C0). A row that an UPDATE moved between ranges meanwhile (a new ctid) may be in neither copy or
// in both: that UPDATE is in the stream too, with the whole new row. A range partly written
// before the kill is written again; its rows collapse by key and version (identical blocks are
// even dropped by the server's deduplication, clickhouse/deduplication.h).
//
// What block ranges cannot survive: a table rewritten in between (VACUUM FULL, CLUSTER, TRUNCATE,
// ALTER ... TYPE) moves its rows without a change in the stream; a partition attached or detached
// changes which relations hold them. Either changes the table's fingerprint: such a table (and
// one not in the plan at all) is emptied and copied whole under S1 — its other rows come from S1
// and the stream, so nothing of S0 is needed.
//
// The outbox's copy (capture/outbox/outbox_copy.h) resumes the same way: its events play the
// stream's part (every change after S0 has an event, versioned by WAL position above 0, applied
// after the copy). So does a copy beside the stream ("logical.copy_again": `pg2ch resync`, a
// table copied again at a start; table_copy.h): the stream applies every change of the table
// from the copy's start X on, which plays C0's part.
//
// The invariant every writer keeps: a plan in the store never claims a range done that its
// target lacks. So the plan is erased before a target is emptied for a new copy, and once a copy
// ends, before its tables leave `copying`.
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "capture/logical/snapshot_plan.h"
#include "capture/table_sync/table_states.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"
#include "state/state_store.h"

namespace pg2ch::capture::logical {

class SnapshotProgress {
 public:
  explicit SnapshotProgress(state::StateStore& store, std::string prefix = "logical.snapshot");

  // Whether a run before recorded a plan (and so may have copied some of it).
  bool recorded() const;
  // Whether the recorded plan has a range done.
  bool some_done_recorded() const;
  // For `status`: "k of n ranges copied (r rows)" of a recorded plan, without reading it whole.
  std::optional<std::string> describe_recorded() const;
  // Whether that plan may go on for `tables`: recorded, and every table new (init) or copying
  // with the columns and config it had when its copy began (else it is said why not).
  bool resumable(const table_sync::TableStates& states, std::span<const pipeline::TableSchema* const> tables) const;
  // A new plan: every table planned now with `workers` and `max_range_blocks`, none done.
  void start(pg::Connection& conn, std::span<const pipeline::TableSchema* const> tables, int workers,
             std::int64_t max_range_blocks);
  // The recorded plan against `tables` as they are now: the ranges of a table whose fingerprint
  // is the recorded one are kept, done or not; a table with another fingerprint, or none recorded,
  // is planned again with nothing done. Returns those tables (their targets must be emptied
  // before the copy). The plan as it now is, is recorded.
  std::vector<const pipeline::TableSchema*> resume(pg::Connection& conn,
                                                   std::span<const pipeline::TableSchema* const> tables, int workers,
                                                   std::int64_t max_range_blocks);

  // The ranges left to copy, by index into the plan.
  std::vector<std::size_t> pending() const;
  const CopyRange& range(std::size_t index) const { return ranges_.at(index); }
  std::size_t size() const { return ranges_.size(); }
  // Range `index` is in the target with `rows` rows: durable before return. Thread-safe.
  void done(std::size_t index, std::uint64_t rows);
  // Ranges and rows done (by any run) so far.
  std::size_t ranges_done() const;
  std::uint64_t rows_done() const;
  // The snapshot is done (or taken afresh): the plan is forgotten.
  void clear();

 private:
  void record();
  void record_done();
  std::string done_text() const;

  std::string key(const char* what) const { return prefix_ + "." + what; }

  state::StateStore& store_;
  std::string prefix_;
  std::vector<CopyRange> ranges_;
  std::vector<std::pair<std::uint32_t, std::string>> tables_;  // oid, fingerprint
  std::vector<std::int64_t> done_rows_;  // per range; -1 = not done
  mutable std::mutex mutex_;
};

}  // namespace pg2ch::capture::logical
