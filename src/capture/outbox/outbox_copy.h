#pragma once
// The outbox's initial copy: rows that existed before the triggers were installed reach
// ClickHouse without touching the source table (the old workaround, `UPDATE t SET id = id`,
// rewrote every row).
//
// At `run`'s start, before any event is drained, each table that was never copied (`init`), whose
// copy was cut short (`copying`) or whose resync was asked for is copied from ONE snapshot
// exported by a REPEATABLE READ transaction opened after the triggers were verified installed,
// with version 0 (through the sink's bulk load where it has one). Why that is exact:
//   * every change committed before the snapshot is in it;
//   * every change after it has an event, because the triggers were installed (committed) before
//     the snapshot was taken; its version, a WAL position > 0, beats the copy's 0;
//   * the tables' events and truncates queued before the copy are deleted first, in their own
//     transaction, before the target is emptied and the snapshot taken (outbox_copy.cpp
//     drop_superseded_events): the snapshot holds their changes, and a row payload event of an
//     older shape (a column renamed or re-created since) would write NULL over the copied value.
//     Not with a Kafka sink (kafka, both): its consumers learn of a delete only from the event,
//     so there they stay and are applied after the copy, as the next point says;
//   * an event committed between that DELETE and the snapshot is applied too, at its version:
//     the key's newest event is its newest change, which the snapshot either holds or predates,
//     so the final state per key is its newest change, or the copy's row when none came.
//
// Durable steps: a table is marked copying before its target is emptied, the copy's ranges are
// recorded, each range once ClickHouse accepted it (logical/snapshot_progress.h, keys
// "outbox.snapshot.*"); streaming once the copy is written. A crash or a stop in between resumes
// at the next start: the ranges not done are copied from a new snapshot, the others kept. That is
// exact by the argument above with the first snapshot S0: a change committed between S0 and the
// new one has an event, applied after the copy with a version above 0; a range copied twice
// collapses by key and version. A table rewritten meanwhile (VACUUM FULL, ...) is emptied and
// copied whole; a resync asked for meanwhile, or a table whose columns or config changed, takes
// the whole copy again. Sinks without a bulk load copy everything again, after a TRUNCATE
// through the sink (see `requests` and `delivered` below).
//
// Errors: exceptions (pg2ch::Error), as at every start.
#include <atomic>
#include <functional>
#include <vector>

#include "capture/capture_mode.h"
#include "capture/shared/source_tables.h"
#include "capture/table_sync/table_states.h"
#include "common/lsn.h"
#include "config/config.h"
#include "pipeline/change_sink.h"
#include "state/state_store.h"

namespace pg2ch::capture::outbox {

// The tables to copy at this start (see above). Before tables had states, an outbox that already
// drained events counts as having streamed all of them: nothing to copy then.
std::vector<const pipeline::TableSchema*> tables_to_copy(const table_sync::TableStates& states,
                                                         const state::StateStore& store, bool drained_before);

// Copies `tables` as described above; states go copying → streaming. A stop leaves them copying.
// Holds copy_lock.h's lock of each table throughout (waiting for another drainer's copy).
// `targets_created`: some target was missing at this start (its rows of ranges done are gone), so
// a copy cut short starts over.
// `requests`: a copy request's copy (partition_copies.h), always whole (a copy cut short of an
// earlier run was not emptied of the partition's rows): the table's copy requests up to `upto`
// stay queued (the drainer deletes them after the copy), and `confirm` runs once every row is
// sent, before the tables stream (the drainer checks there that the sink holds them durably).
// Through a sink without a bulk load (kafka, both) every copy is whole and begins with a
// TRUNCATE through the sink (capture/shared/copy_truncate.h), so Kafka consumers drop the rows
// that earlier messages (an earlier run on the topic, deleted events, a partition's rows no
// event names) would otherwise leave them; a copy request's drainer sends that one before the
// copy. `delivered` then confirms the TRUNCATE and the rows durable before the tables stream
// (OutboxDrainer::confirm_delivered).
struct CopyRequests {
  Lsn upto;
  std::function<void()> confirm;
};
void copy_tables(const config::Config& cfg, SourceTables& p, const std::vector<const pipeline::TableSchema*>& tables,
                 table_sync::TableStates& states, state::StateStore& store, pipeline::ChangeSink& sink,
                 const std::atomic<bool>& stop, const RunOptions& options, bool targets_created,
                 const CopyRequests* requests = nullptr, const std::function<void()>& delivered = {});

}  // namespace pg2ch::capture::outbox
