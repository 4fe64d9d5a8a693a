#pragma once
// The pipeline's metrics in Prometheus' data model (prometheus-cpp's registry and families),
// fed through pipeline::PipelineObserver by captures and sinks, and by the loop and the error
// policy (state, retries, liveness). Served by metrics/http_endpoint.h; names follow Prometheus
// conventions (pg2ch_ prefix, _total counters, _seconds, _bytes).
//
// Counters live as long as the process, across the error policy's restarts of a run; per-table
// series are keyed by the table's qualified name.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/error.h"
#include "config/config.h"
#include "pipeline/pipeline_observer.h"

namespace pg2ch::metrics {

enum class PipelineState { Starting, Streaming, Retrying, Stopping };
const char* to_string(PipelineState s);

class PipelineMetrics final : public pipeline::PipelineObserver {
 public:
  explicit PipelineMetrics(const config::Config& cfg);

  // pipeline::PipelineObserver
  void changed(const pipeline::TableSchema& table, pipeline::ChangeOp op) override;
  void written(const pipeline::TableSchema& table, std::size_t rows, std::size_t bytes,
               std::chrono::duration<double> took) override;
  void delivered(std::size_t messages, std::size_t bytes) override;
  void copied(const pipeline::TableSchema& table, std::size_t rows, std::size_t bytes) override;
  void lag(const pipeline::LagSample& sample) override;
  void table_state(const pipeline::TableSchema& table, std::string_view state) override;
  void table_forgotten(const pipeline::TableSchema& table) override;
  void budget_waiting(std::size_t batches) override;
  void target_parts(const pipeline::TableSchema& table, std::int64_t parts) override;

  // The loop and the error policy.
  void run_started();  // also forgets the previous run's table objects
  void set_state(PipelineState s);
  PipelineState state() const { return state_.load(); }
  void retried(ErrorKind kind);
  void failed(ErrorKind kind);
  void alive();
  // Time since the working loop (or a snapshot worker) last said it was alive.
  std::chrono::steady_clock::duration since_alive() const;

  // The Prometheus text exposition format (version 0.0.4).
  std::string exposition() const;

  struct TableTotals {
    std::uint64_t changes = 0;
    std::uint64_t rows_written = 0;
  };
  // Per qualified table name, for the summary line.
  std::map<std::string, TableTotals> table_totals() const;

 private:
  struct TableSeries {
    std::array<prometheus::Counter*, 4> changes{};  // by ChangeOp
    prometheus::Counter* rows_written = nullptr;
    prometheus::Counter* bytes_written = nullptr;
    prometheus::Counter* inserts = nullptr;
    prometheus::Counter* copied_rows = nullptr;
  };
  TableSeries& series(const pipeline::TableSchema& table);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& changes_;
  prometheus::Family<prometheus::Counter>& rows_written_;
  prometheus::Family<prometheus::Counter>& bytes_written_;
  prometheus::Family<prometheus::Counter>& inserts_;
  prometheus::Family<prometheus::Counter>& copied_rows_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Gauge>& state_gauge_;
  prometheus::Family<prometheus::Gauge>& wal_status_;
  prometheus::Family<prometheus::Gauge>& table_state_;
  prometheus::Family<prometheus::Gauge>& target_parts_;
  prometheus::Counter& runs_;
  prometheus::Counter& kafka_messages_;
  prometheus::Counter& kafka_bytes_;
  prometheus::Histogram& insert_seconds_;
  prometheus::Histogram& batch_rows_;
  prometheus::Gauge& ready_;
  prometheus::Gauge& last_write_;
  prometheus::Gauge& budget_waiting_;
  // Created on the first sample that has them: a mode that cannot measure a lag exports none
  // (a 0 would read as "caught up" and silence alerts).
  prometheus::Family<prometheus::Gauge>& lag_bytes_;
  prometheus::Family<prometheus::Gauge>& lag_seconds_;
  prometheus::Family<prometheus::Gauge>& retained_wal_;
  prometheus::Family<prometheus::Gauge>& pending_messages_;

  mutable std::mutex mutex_;  // the maps below (snapshot workers and the loop both add tables)
  std::unordered_map<std::string, std::unique_ptr<TableSeries>> by_name_;
  std::unordered_map<const pipeline::TableSchema*, TableSeries*> by_schema_;
  // changed() runs on the capture's thread only: a one-entry cache without the lock.
  const pipeline::TableSchema* last_schema_ = nullptr;
  TableSeries* last_series_ = nullptr;

  std::atomic<PipelineState> state_{PipelineState::Starting};
  std::atomic<std::int64_t> alive_ns_;
};

}  // namespace pg2ch::metrics
