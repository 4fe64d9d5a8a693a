#pragma once
// `pg2ch resync TABLE…` on a running pipeline (logical mode): the named tables are copied again
// while the stream goes on for every table, the resynced ones included.
//
// The request: `pg2ch resync` marks the tables `init` and sets their resync request key in the
// state store (table_sync::resync_request_key; durable: a pipeline that is not running copies
// them at its next start, table_copy.h). A running pipeline reads the store again every few
// seconds and takes each request key it finds, erasing it once the table is copying. (Choice:
// the state store rather than a signal or a socket, because the request is durable there, so
// one made while the pipeline restarts is not lost. A key rather than the phase alone, because
// the pipeline's own state writes, e.g. a table catching up, may overwrite the phase.)
//
// One table at a time, on the loop's thread except the copy itself:
//   1. what the sink holds of the table is discarded, the table marked copying (durable), its
//      target emptied (re-created when its columns changed); through a sink without a bulk load
//      (Kafka), a TRUNCATE of the table is sent at this point of the stream
//      (copy_truncate.h says why);
//   2. the gate applies every change of the table from here on (TableGate::copy_again);
//   3. a worker thread creates a TEMPORARY slot with an exported snapshot (consistent point C)
//      and copies the table's rows under it, with version 0, through the sink's bulk load;
//   4. back on the loop: the table is catching_up at C, and streams once C is durable.
// A sink without a bulk load (sink = "kafka" | "both") takes steps 3 and 4 differently: the rows
// go through the pipeline's own sink in the stream's order, chunk by chunk between watermarks
// (watermark_copy.h), and the table catches up once its last chunk is durable.
// Why the result is exact: every change the stream read before step 2 was committed before the
// snapshot is taken (C is after it), so the copy holds its effect; every change after step 2 is
// applied with its LSN as version, above the copy's 0, in commit order, so each key ends at its
// newest change or, when none came after step 2, at the copy's row (table_gate.h's argument with
// X = step 2 ≤ C). What the stream wrote before step 1 is emptied away with the target.
//
// A crash anywhere leaves the table copying: the next start copies it again (table_copy.h). With
// the bulk load, a TRUNCATE of the table the stream applies between the copy's start and its end
// (committed after the copy's snapshot, it would empty the rows written so far and leave those
// written after) takes the copy again from a new snapshot; so does one committed before the
// snapshot, which needs it not, because the two cannot be told apart cheaply (a copy through the
// sink starts over too: watermark_copy.h). A table that stops meanwhile (a bad value, a column
// change) stays stopped: the finished copy does not revive it.
//
// Errors: the worker's exception is rethrown on the loop's thread by poll() (pg2ch::Error; the
// service retries a transient one, and the next start copies the table again).
#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <thread>

#include "capture/capture_mode.h"
#include "capture/logical/logical_stream.h"
#include "capture/logical/snapshot_copier.h"
#include "capture/logical/table_gate.h"
#include "capture/logical/watermark_copy.h"
#include "capture/shared/source_tables.h"
#include "capture/table_sync/table_states.h"
#include "config/config.h"
#include "pipeline/change_sink.h"
#include "state/state_store.h"

namespace pg2ch::capture::logical {

class OnlineResync final : public StreamWatcher {
 public:
  OnlineResync(const config::Config& cfg, SourceTables& p, state::StateStore& store, table_sync::TableStates& states,
               TableGate& gate, pipeline::ChangeSink& sink, pipeline::PipelineObserver* observer);
  // Cancels a running copy and waits for its thread: the table stays copying, and the next start
  // copies it again.
  ~OnlineResync() override;
  OnlineResync(const OnlineResync&) = delete;
  OnlineResync& operator=(const OnlineResync&) = delete;

  // The stream a copy through the sink sends its TRUNCATE and rows in (before the first poll()).
  void set_stream(LogicalStream& stream) { stream_ = &stream; }

  // Every turn, on the loop's thread: takes a copy cut by a TRUNCATE again (TableGate::
  // take_truncated), finishes a copy that ended (rethrowing its error), reads new requests
  // every few seconds, starts the next one.
  void poll();
  // Copies `table` (a table that just joined: table_discovery.h) as if a resync was asked for.
  void copy(const pipeline::TableSchema& table);
  // The table leaves the pipeline (dropped, its name taken by another): not copied.
  void forget(const pipeline::TableSchema& table);
  // Stops a running copy (orderly shutdown); the table stays copying.
  void cancel();
  bool copying() const { return worker_ != nullptr || chunked_ != nullptr; }

  // StreamWatcher: the table a copy through the sink copies (watermark_copy.h).
  const pipeline::TableSchema* watched() const override { return chunked_ ? &chunked_->table() : nullptr; }
  void changed(std::uint32_t xid, std::span<const pipeline::ValueRef> row) override { chunked_->changed(xid, row); }
  void truncated(std::uint32_t xid) override { chunked_->truncated(xid); }
  void watermark(std::string_view content, Lsn lsn, bool in_transaction) override;

 private:
  struct Worker;

  void truncated(const pipeline::TableSchema& table);
  void read_requests();
  void start(const pipeline::TableSchema& table);
  // Describes `table` again and takes its columns as they are now when they changed (the sink
  // holds nothing of it: start() discarded it).
  void take_columns_as_they_are(const pipeline::TableSchema& table);
  void finish_worker();
  // The table's source reference (its [[tables]] selector when it has one).
  pg::TableRef ref_of(const pipeline::TableSchema& table) const;
  // Steps 3 and 4 through the sink (watermark_copy.h).
  void start_chunked(const pipeline::TableSchema& table, std::unique_ptr<SnapshotProgress> progress);
  void poll_chunked();
  // Ends a copy through the sink without finishing it; the table stays copying.
  void drop_chunked();

  const config::Config& cfg_;
  SourceTables& p_;
  state::StateStore& store_;
  table_sync::TableStates& states_;
  TableGate& gate_;
  pipeline::ChangeSink& sink_;
  pipeline::PipelineObserver* observer_;
  std::deque<const pipeline::TableSchema*> queue_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<WatermarkCopy> chunked_;
  LogicalStream* stream_ = nullptr;
  std::chrono::steady_clock::time_point chunked_started_{};
  std::chrono::steady_clock::time_point next_read_{};
};

}  // namespace pg2ch::capture::logical
