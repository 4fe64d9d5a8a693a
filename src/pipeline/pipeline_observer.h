#pragma once
// What a running pipeline reports as it goes, for metrics (metrics/pipeline_metrics.h) and
// anything else that watches. Captures, sinks and the loop call it; every call is cheap, and
// `changed` runs once per change on the capture's thread, so an implementation must not lock or
// allocate there. `copied` comes from snapshot workers and must be thread-safe.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/table_schema.h"

namespace pg2ch::pipeline {

enum class ChangeOp { Insert, Update, Delete, Truncate };

// How far the destination is behind the source, as the source measures it (sampled by the loop
// every few seconds). Fields a mode cannot measure stay empty.
struct LagSample {
  std::optional<std::int64_t> lag_bytes;           // logical: current WAL - confirmed flush
  std::optional<std::int64_t> retained_wal_bytes;  // logical: current WAL - restart_lsn
  std::optional<std::string> wal_status;           // logical: pg_replication_slots.wal_status
  std::optional<double> lag_seconds;               // age of the oldest change not yet durable
  std::optional<std::int64_t> pending_messages;    // kafka: messages in the topics not yet read
};

class PipelineObserver {
 public:
  virtual ~PipelineObserver() = default;

  // A change handed to the sink.
  virtual void changed(const TableSchema& table, ChangeOp op) = 0;
  // The destination durably accepted `rows` rows of `table` in one request (a ClickHouse INSERT).
  virtual void written(const TableSchema& table, std::size_t rows, std::size_t bytes,
                       std::chrono::duration<double> took) = 0;
  // The Kafka brokers confirmed `messages` messages.
  virtual void delivered(std::size_t messages, std::size_t bytes) = 0;
  // The initial copy starts, with the source's estimate of each table's rows
  // (pg_class.reltuples; negative when the table was never analysed).
  virtual void copy_started(const std::vector<std::pair<const TableSchema*, std::int64_t>>& /*estimates*/) {}
  // The initial copy moved `rows` more rows of `table` (thread-safe).
  virtual void copied(const TableSchema& table, std::size_t rows, std::size_t bytes) = 0;
  // The initial copy ended (done or stopped).
  virtual void copy_finished() {}
  virtual void lag(const LagSample& sample) = 0;
  // A table's state (capture/table_sync/table_state.h: init, copying, catching_up, streaming,
  // stopped), at start and on every change.
  virtual void table_state(const TableSchema& /*table*/, std::string_view /*state*/) {}
  // A table left the pipeline for good (dropped at the source, its target with it): no state.
  virtual void table_forgotten(const TableSchema& /*table*/) {}
  // Batches due by time that wait for the insert budget (pipeline/insert_budget.h), at every
  // look at them: 0 when none waits.
  virtual void budget_waiting(std::size_t /*batches*/) {}
  // The active parts of the fullest partition of `table`'s target (clickhouse/part_pressure.h),
  // every few seconds while the table has changes.
  virtual void target_parts(const TableSchema& /*table*/, std::int64_t /*parts*/) {}
};

}  // namespace pg2ch::pipeline
