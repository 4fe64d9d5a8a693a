#pragma once
// A table's copy beside the stream for a sink without a bulk load (sink = "kafka" | "both"): a
// `pg2ch resync`, a table that joined, a table whose partitions changed, on a running logical
// pipeline (online_resync.h). Its rows go through the pipeline's own sink in the stream's order,
// so each partition of a Kafka topic holds a key's events in the order they happened: a consumer
// that keeps the last message per key (log compaction, an upserting sink connector) ends right,
// not only one that orders by version as pg2ch's does.
//
// After DBLog (Netflix, 2019) and Debezium's incremental snapshots. The table's ranges
// (snapshot_plan.h, at most kChunkMb each) are read one at a time by a worker thread, each in a
// REPEATABLE READ transaction whose snapshot S it records (pg_current_snapshot()); then the
// worker writes a watermark into the WAL (pg_logical_emit_message, not transactional, prefix
// kWatermarkPrefix: logical_stream.h) and the chunk waits (on disk, below). The loop meets the watermark
// in the stream and sends the chunk's rows there, inserts at version 0 (Kafka: op "r") in a sink
// transaction at the watermark's position, leaving out the rows whose key a transaction S does
// not see changed before the watermark. Why that is exact, per key k of the chunk:
//   * a transaction S sees committed before S was taken, so before the watermark in the WAL:
//     its changes of k are before the watermark in the stream, and the chunk's row holds them;
//   * a transaction S does not see that changed k before the watermark: k is left out, and that
//     change (or a later one) is the key's newest event, already in order;
//   * every change after the watermark comes after the row.
// A TRUNCATE S does not see leaves the whole chunk out (its rows are gone); a change whose key is
// not known (an UPDATE keeping an unchanged TOASTed key) has the chunk read again. Which
// transaction changed which key is remembered from the copy's start until a chunk's snapshot
// sees that transaction (pg/xid_snapshot.h), which is about one chunk's time.
//
// The copy begins after a TRUNCATE sent through the same sink (online_resync.h, step 1), so what
// the table's earlier messages left consumers is emptied before any row of the copy. What the
// stream carried before that point is in no chunk's row unless the chunk's snapshot sees it: a
// commit is decoded a moment before snapshots see it (pg/transaction_visibility.h), longer when
// it waits for a synchronous standby. So a chunk whose snapshot misses one of the transactions
// the stream applied lately before the copy began (LogicalStream::recent_transactions(): the
// last 65,536, and one being decoded) is read again.
//
// Each chunk's transaction locks the table (ACCESS SHARE) before taking its snapshot and checks
// that its columns and relations are still the ones the copy began with: block ranges do not
// survive a rewrite (VACUUM FULL, CLUSTER, TRUNCATE, a partition attached or detached: its
// relfilenodes differ, snapshot_progress.h), and rows of other columns would not fit the
// table's schema. Either starts the copy over (online_resync.h), TRUNCATE first. A chunk waits
// in an anonymous file beside the spool of streamed transactions, not in memory (its TOASTed
// values may be many times its 32 MB of pages).
//
// A range is recorded done once the sink's durable position reached its transaction's (one past
// the watermark's start); a kill leaves the table copying with its plan, and the next start
// copies the ranges not done (table_copy.h, "logical.copy_again"; a plan with none done is taken
// whole, TRUNCATE included, since the TRUNCATE may not have been delivered). The table streams
// once its last range is durable.
//
// Threads: the worker only reads PostgreSQL and hands chunks over under a mutex; everything that
// touches the sink, the gate or the table states is on the loop's thread. Errors: the worker's
// exception (pg2ch::Error) is rethrown by poll() on the loop's thread; a value the sink refuses
// for this table alone is handed back (refusal()), as the stream's own are.
#include <libpq-fe.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "capture/logical/anonymous_file.h"
#include "capture/logical/snapshot_progress.h"
#include "common/error.h"
#include "common/lsn.h"
#include "config/config.h"
#include "pg/catalog.h"
#include "pg/xid_snapshot.h"
#include "pipeline/change_sink.h"
#include "pipeline/pipeline_observer.h"
#include "pipeline/table_schema.h"
#include "pipeline/value.h"

namespace pg2ch::capture::logical {

class WatermarkCopy {
 public:
  // What poll() found.
  enum class Progress {
    Copying,
    Done,       // every range durable
    StartOver,  // the table was rewritten or its columns changed (start_over_reason())
  };
  // A value of a chunk's row the sink refused for this table alone.
  struct Refusal {
    Error error;
    std::string key;  // pipeline::key_text of the row
  };

  // Copies `table` (the pipeline's; its columns described anew by the worker and checked against
  // `digest`) under `progress` (cleared by the caller). `recent`: the transactions the stream
  // applied lately before the copy's start (LogicalStream::recent_transactions()). Chunks wait
  // in `spool_dir`.
  WatermarkCopy(const config::Config& cfg, const pipeline::TableSchema& table, pg::TableRef ref,
                clickhouse::ServerCapabilities caps, pg::DescribeOptions describe, std::string digest,
                std::unique_ptr<SnapshotProgress> progress, std::vector<std::uint32_t> recent,
                std::string spool_dir);
  // Stops the worker and waits for it; the table stays copying.
  ~WatermarkCopy();
  WatermarkCopy(const WatermarkCopy&) = delete;
  WatermarkCopy& operator=(const WatermarkCopy&) = delete;

  const pipeline::TableSchema& table() const { return table_; }

  // From the stream, on the loop's thread: the key of a row a change of the table by transaction
  // `xid` touched (by source column: an INSERT's row, an UPDATE's old and new, a DELETE's old).
  void changed(std::uint32_t xid, std::span<const pipeline::ValueRef> row);
  void truncated(std::uint32_t xid);
  // A watermark message at `lsn`; when it is this copy's, its chunk's rows go through `sink` (in
  // the transaction being decoded when `in_transaction`, else in one of their own at `lsn`).
  void watermark(std::string_view content, Lsn lsn, bool in_transaction, pipeline::ChangeSink& sink,
                 pipeline::PipelineObserver* observer);
  // The refusal of the last chunk sent, once: the caller stops the table.
  std::optional<Refusal> take_refusal() { return std::exchange(refusal_, std::nullopt); }
  // Every turn: rethrows the worker's error, asks for the next chunk, records the ranges whose
  // rows are durable.
  Progress poll(std::optional<Lsn> durable);
  std::string start_over_reason() const;
  // Stops the worker (cancelling its query) and waits for it.
  void stop();
  // The plan is no longer needed (done, or the table left the pipeline): after stop().
  void clear_progress() { progress_->clear(); }

  // The sink position of the last chunk sent: durable once it is.
  Lsn last_position() const { return last_position_; }
  std::uint64_t rows() const { return rows_; }
  std::uint64_t bytes() const { return bytes_; }
  std::size_t chunks() const { return chunks_; }

 private:
  static constexpr int kChunkMb = 32;

  struct Chunk {
    std::uint64_t seq = 0;
    std::size_t range = 0;
    pg::XidSnapshot snapshot;
    FilePtr data;  // the range's COPY ... (FORMAT binary) output, from its start
  };
  struct Sent {
    std::size_t range;
    Lsn position;  // its sink transaction's
    std::uint64_t rows;
  };
  // A change the chunks may not see yet: `all` for a TRUNCATE, `unknown` when its key could not
  // be told.
  struct Seen {
    std::uint32_t xid;
    std::string key;
    bool all = false;
    bool unknown = false;
  };
  struct CancelFree {
    void operator()(PGcancel* c) const noexcept { PQfreeCancel(c); }
  };

  void run(pg::TableRef ref, pg::DescribeOptions describe);
  // False when the table no longer is what the copy began with (start_over_ set).
  bool read_chunk(pg::Connection& conn, const pg::TableRef& ref, const pg::DescribeOptions& describe,
                  const std::string& fingerprint, std::size_t range, std::uint64_t seq);
  void request(std::size_t range);
  // Sends the rows of `chunk` no transaction it does not see changed; false when it must be read
  // again.
  bool send(Chunk& chunk, Lsn lsn, bool in_transaction, pipeline::ChangeSink& sink,
            pipeline::PipelineObserver* observer);

  const config::Config& cfg_;
  const pipeline::TableSchema& table_;
  const clickhouse::ServerCapabilities caps_;
  const std::string digest_;
  const std::unique_ptr<SnapshotProgress> progress_;
  const std::string spool_dir_;
  const std::string nonce_;

  // Loop thread only.
  std::vector<std::uint32_t> recent_;  // not yet seen by a chunk's snapshot
  std::vector<Seen> seen_;
  std::vector<std::size_t> pending_;  // the plan's ranges not done, in order
  std::size_t next_ = 0;              // into pending_
  std::optional<std::uint64_t> awaited_;  // the chunk asked for and not met yet
  std::uint64_t seq_ = 0;
  std::deque<Sent> sent_;
  std::optional<Refusal> refusal_;
  Lsn last_position_ = kInvalidLsn;
  std::uint64_t rows_ = 0;
  std::uint64_t bytes_ = 0;
  std::size_t chunks_ = 0;

  // Shared with the worker.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::atomic<bool> stopping_{false};  // stop_, read by the worker mid-COPY without the mutex
  bool planned_ = false;
  std::vector<std::size_t> plan_pending_;
  std::optional<std::pair<std::size_t, std::uint64_t>> requested_;  // range, seq
  std::optional<Chunk> ready_;
  std::optional<std::string> start_over_;
  std::unique_ptr<PGcancel, CancelFree> cancel_;  // the worker's connection's, while it has one
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace pg2ch::capture::logical
