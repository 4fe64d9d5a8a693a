#pragma once
// ChangeSink that writes to ClickHouse: per-table RowBinary batches, flushed by rows, bytes or
// age, each flush one INSERT; durable positions tracked by AckTracker. Flushes by age wait for
// the insert budget (insert_budget.h): the most INSERTs a second in all and per table.
//
// Each INSERT carries a deduplication token where the server takes one (clickhouse/deduplication.h),
// so a batch sent again after a lost answer or a crash is written once.
//
// Memory stays bounded for any transaction size: a batch is flushed when it reaches
// max_rows/max_bytes even mid-transaction (the rows are committed at the source already —
// pgoutput only sends committed transactions — and re-delivery after a crash rewrites the same
// (key, version) pairs, which ReplacingMergeTree collapses).
//
// Unchanged TOAST columns in an UPDATE are filled at flush time from the source's current row
// (CurrentRowFetcher), read with a snapshot that sees the change's transaction (its xid from
// transaction_context()): before that, the row read could be the state before the transaction,
// e.g. without a TOAST value or a row the same transaction wrote before this update. If the
// current row is newer than the change, a later change of the same key is still ahead in the
// stream and will supersede this version; so the final state is exact, and only superseded
// intermediate versions may carry the newer value.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "clickhouse/cluster_layout.h"
#include "clickhouse/http_client.h"
#include "clickhouse/part_pressure.h"
#include "common/byte_buffer.h"
#include "config/config.h"
#include "pipeline/ack_tracker.h"
#include "pipeline/change_sink.h"
#include "pipeline/insert_budget.h"
#include "pipeline/owned_row.h"
#include "pipeline/pipeline_observer.h"
#include "pipeline/retry.h"
#include "pipeline/row_encoder.h"

namespace pg2ch::pipeline {

class ClickHouseChangeSink final : public ChangeSink {
 public:
  using Clock = std::chrono::steady_clock;

  // `layout`: on a cluster TRUNCATE runs ON CLUSTER, and with `distributed` the INSERTs name the
  // Distributed table and wait for every shard (clickhouse/cluster_layout.h).
  ClickHouseChangeSink(clickhouse::HttpClient& client, std::string database, clickhouse::TargetLayout layout,
                       config::BatchConfig batch, CurrentRowFetcher* toast_fetcher, RetryPolicy retry = {});

  void begin_transaction() override;
  void transaction_context(const TransactionContext& tx) override { xid_ = tx.xid; }
  void insert(const TableSchema& table, std::span<const ValueRef> row, std::uint64_t version) override;
  void update(const TableSchema& table, std::span<const ValueRef> old_row, std::span<const ValueRef> new_row,
              std::uint64_t version) override;
  void remove(const TableSchema& table, std::span<const ValueRef> old_row, std::uint64_t version) override;
  void truncate(const TableSchema& table) override;
  void commit_transaction(Position position) override;
  void source_idle(Position position) override;
  std::optional<std::chrono::milliseconds> poll() override;
  void discard(const TableSchema& table) override;
  void flush() override;
  std::optional<Position> durable_position() const override { return acks_.durable(); }

  SinkStats stats() const override { return stats_; }
  void set_batch_limits(const config::BatchConfig& limits) override;
  void set_refusal_handler(RefusalHandler handler) override { refused_ = std::move(handler); }
  // Told about every INSERT that ClickHouse accepted; may be null.
  void set_observer(PipelineObserver* observer) { observer_ = observer; }

 private:
  struct Batch {
    explicit Batch(const TableSchema& s) : schema(&s), encoder(s) {}
    // Empty again, keeping the body's capacity.
    void clear() {
      body.clear();
      toast_rows.clear();
      rows = 0;
      lowest_version = UINT64_MAX;
      highest_version = 0;
      first_seq = AckTracker::kNothingPending;
    }
    const TableSchema* schema;
    RowEncoder encoder;
    ByteBuffer body;
    std::size_t rows = 0;
    // The batch's lowest and highest _version: its source positions, for the deduplication token.
    std::uint64_t lowest_version = UINT64_MAX;
    std::uint64_t highest_version = 0;
    std::uint64_t first_seq = AckTracker::kNothingPending;
    Clock::time_point first_at{};
    Clock::time_point last_insert_at{};  // kept by clear(): the table's insert interval counts from it
    // Kept by clear(): a longer interval while its target nears ClickHouse's part limits (look_at_parts).
    std::optional<std::chrono::milliseconds> pressed;
    struct ToastRow {
      OwnedRow row;
      std::uint64_t version;
      std::optional<std::uint32_t> xid;  // the change's transaction: the fetch must see it
    };
    std::vector<ToastRow> toast_rows;
  };

  Batch& batch_for(const TableSchema& table);
  void note_appended(Batch& b, std::uint64_t version);
  // A flush that does not wait for the insert budget (full batch, flush()): charged to it.
  void flush_unbudgeted(Batch& b);
  void flush_batch(Batch& b);
  void use_async_inserts();
  // Every kPartsLookEvery: each written table's active parts; a table near ClickHouse's limits
  // gets a longer interval between its INSERTs (clickhouse/part_pressure.h).
  void look_at_parts(Clock::time_point now);
  std::chrono::milliseconds table_interval(const Batch& b) const;
  void resolve_toast(Batch& b);
  void advance_acks();

  clickhouse::HttpClient& client_;
  std::string database_;
  clickhouse::TargetLayout layout_;
  // The layout's insert settings, plus each batch's deduplication token (rewritten per flush).
  std::map<std::string, std::string> insert_settings_;
  config::BatchConfig limits_;
  CurrentRowFetcher* toast_fetcher_;
  std::optional<std::uint32_t> xid_;  // of the changes being received (transaction_context)
  RetryPolicy retry_;
  std::unordered_map<const TableSchema*, std::unique_ptr<Batch>> batches_;
  // When the source last said it had nothing more to send. A batch whose first row is older than
  // that waits only idle_flush: the source caught up after it began, so waiting longer only adds
  // latency. Under continuous load the source never idles and max_delay/rows/bytes apply.
  Clock::time_point last_idle_{};
  InsertBudget budget_;
  static constexpr std::chrono::seconds kPartsLookEvery{10};
  Clock::time_point parts_looked_at_{};
  std::optional<clickhouse::PartLimits> part_limits_;
  // poll()'s batches due by time, kept to reuse its capacity on this hot path.
  struct Due {
    Batch* batch;
    double row_seconds;  // rows x age: how much waiting this batch holds (insert_budget.h)
  };
  std::vector<Due> due_;
  AckTracker acks_;
  SinkStats stats_;
  PipelineObserver* observer_ = nullptr;
  RefusalHandler refused_;
};

}  // namespace pg2ch::pipeline
