#pragma once
// The seam between captures and destinations.
//
// Every capture mode (logical today; poll, notify, outbox, kafka-in later) turns what it reads
// into calls on a ChangeSink, one source transaction at a time; every destination (ClickHouse
// today; Kafka later) implements it. The sink owns batching and durability. It reports, through
// durable_position(), the highest source position whose changes it has *durably* written; the
// capture acknowledges exactly that to its source (slot LSN, watermark, outbox delete, offset)
// and never more.
//
// Values are in PostgreSQL binary format and indexed by source column (TableSchema::source_columns).
// Versions order changes of one key: the change's LSN for the logical capture.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "common/error.h"
#include "config/config.h"
#include "pipeline/bulk_load.h"
#include "pipeline/table_schema.h"
#include "pipeline/value.h"

namespace pg2ch::pipeline {

using Position = std::uint64_t;

// What the source tells about the transaction being delivered, when it knows (the logical
// capture: pgoutput's Begin). Destinations that publish events (Kafka's envelope: source.txId,
// source.ts_ms) use it; ClickHouse keeps the xid only for the unchanged-TOAST fetch, which must
// see that transaction (CurrentRowFetcher).
struct TransactionContext {
  std::optional<std::uint32_t> xid;
  std::optional<std::int64_t> commit_time_ms;  // Unix epoch milliseconds
};

// Whether an UPDATE keeps the row's key: every sink must turn a key change into a delete of the
// old key (rows are indexed by source column, key columns from TableSchema::key_target_indexes).
inline bool same_key(const TableSchema& t, std::span<const ValueRef> a, std::span<const ValueRef> b) {
  for (int ti : t.key_target_indexes) {
    const auto si = static_cast<std::size_t>(t.target_columns[static_cast<std::size_t>(ti)].source_index);
    if (a[si].kind != b[si].kind || a[si].data != b[si].data) return false;
  }
  return true;
}

struct SinkStats {
  std::uint64_t rows_written = 0;   // rows (or messages) the destination accepted
  std::uint64_t bytes_written = 0;
  std::uint64_t inserts = 0;        // requests (ClickHouse INSERTs, Kafka produce batches)
};

// Told when the destination refused one table's batch for a reason of that table alone (an
// Error the capture judges; ClickHouse: a target column or table gone, a type the server will not
// take). Returns true when the capture stopped the table: the sink then drops the batch and goes
// on with the other tables (the stopped table's target is copied again before it streams, so what
// the batch held is not lost). False: the error stops the pipeline as before.
using RefusalHandler = std::function<bool(const TableSchema& table, const Error& error)>;

class ChangeSink {
 public:
  virtual ~ChangeSink() = default;

  virtual void begin_transaction() = 0;
  // Optional, right after begin_transaction(): valid until the next begin_transaction(). A
  // capture whose sink transaction carries changes of several source transactions (the Kafka
  // consumer's segments) calls it again before each change: it applies to the changes after it.
  virtual void transaction_context(const TransactionContext& /*tx*/) {}
  virtual void insert(const TableSchema& table, std::span<const ValueRef> row, std::uint64_t version) = 0;
  // old_row is empty when the source did not send the old tuple (key unchanged, default identity).
  virtual void update(const TableSchema& table, std::span<const ValueRef> old_row, std::span<const ValueRef> new_row,
                      std::uint64_t version) = 0;
  virtual void remove(const TableSchema& table, std::span<const ValueRef> old_row, std::uint64_t version) = 0;
  // Everything before the truncate is written first, then the target is emptied.
  virtual void truncate(const TableSchema& table) = 0;
  // The transaction is complete; `position` becomes durable once its rows are.
  virtual void commit_transaction(Position position) = 0;
  // Nothing is pending at the source up to `position` (idle keepalive): durable as soon as
  // everything already received is.
  virtual void source_idle(Position position) = 0;

  // A table stopped (capture/table_sync): drop what is buffered for it and never write it; its
  // target is copied again before the table streams. What it held no longer holds back the
  // durable position. Sinks that cannot take back what they sent (Kafka) keep it.
  virtual void discard(const TableSchema& /*table*/) {}

  // Flushes what is due by time. Returns the time until the next flush is due, if anything waits.
  virtual std::optional<std::chrono::milliseconds> poll() = 0;
  // Flushes everything now (shutdown, before truncate).
  virtual void flush() = 0;
  virtual std::optional<Position> durable_position() const = 0;
  virtual SinkStats stats() const = 0;
  // The sink's bulk-load capability for the initial copy (pipeline/bulk_load.h); null when the
  // copy must go change by change through the sink. Owned by the sink.
  virtual BulkLoad* bulk_load() { return nullptr; }
  // Whether what the sink sent before may have left its consumers rows of `table` that a whole
  // copy's rows do not replace (rows deleted since, rows at versions above the copy's): the copy
  // then begins with a TRUNCATE through the sink (capture/shared/copy_truncate.h). False where
  // the sink's rows are its own targets, which SinkTargets::truncate empties (ClickHouse).
  virtual bool consumers_may_hold(const TableSchema& /*table*/) { return false; }
  // SIGHUP: new batch limits for what is batched from now on (sinks that batch themselves).
  virtual void set_batch_limits(const config::BatchConfig& /*limits*/) {}
  // Sinks that write tables apart (ClickHouse) ask it when one table's batch is refused.
  virtual void set_refusal_handler(RefusalHandler /*handler*/) {}
};

}  // namespace pg2ch::pipeline
