#include "metrics/pipeline_metrics.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace pg2ch::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

constexpr std::array<const char*, 4> kOps = {"insert", "update", "delete", "truncate"};
constexpr std::array<PipelineState, 4> kStates = {PipelineState::Starting, PipelineState::Streaming,
                                                  PipelineState::Retrying, PipelineState::Stopping};
constexpr std::array<const char*, 4> kWalStatuses = {"reserved", "extended", "unreserved", "lost"};

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr std::string_view kTableStates[] = {"init", "copying", "catching_up", "streaming", "stopped"};

}  // namespace

const char* to_string(PipelineState s) {
  switch (s) {
    case PipelineState::Starting: return "starting";
    case PipelineState::Streaming: return "streaming";
    case PipelineState::Retrying: return "retrying";
    case PipelineState::Stopping: return "stopping";
  }
  return "unknown";
}

PipelineMetrics::PipelineMetrics(const config::Config& cfg)
    : registry_(std::make_shared<prometheus::Registry>()),
      changes_(BuildCounter()
                   .Name("pg2ch_changes_total")
                   .Help("Changes read from the source and handed to the sink, by table and operation")
                   .Register(*registry_)),
      rows_written_(BuildCounter()
                        .Name("pg2ch_rows_written_total")
                        .Help("Rows ClickHouse accepted, by table (changes and initial copy through the sink)")
                        .Register(*registry_)),
      bytes_written_(BuildCounter()
                         .Name("pg2ch_written_bytes_total")
                         .Help("RowBinary bytes ClickHouse accepted, by table")
                         .Register(*registry_)),
      inserts_(BuildCounter().Name("pg2ch_inserts_total").Help("INSERTs ClickHouse accepted, by table").Register(*registry_)),
      copied_rows_(BuildCounter()
                       .Name("pg2ch_snapshot_rows_total")
                       .Help("Rows of the initial copy sent to ClickHouse, by table")
                       .Register(*registry_)),
      retries_(BuildCounter()
                   .Name("pg2ch_retries_total")
                   .Help("Runs restarted after a transient error, by error kind")
                   .Register(*registry_)),
      errors_(BuildCounter()
                  .Name("pg2ch_errors_total")
                  .Help("Errors that stopped the pipeline for an operator, by error kind")
                  .Register(*registry_)),
      state_gauge_(BuildGauge()
                       .Name("pg2ch_state")
                       .Help("1 for the pipeline's current state: starting (connecting, initial copy), streaming, "
                             "retrying (waiting after a transient error), stopping")
                       .Register(*registry_)),
      wal_status_(BuildGauge()
                      .Name("pg2ch_slot_wal_status")
                      .Help("1 for the replication slot's pg_replication_slots.wal_status (logical mode)")
                      .Register(*registry_)),
      table_state_(BuildGauge()
                       .Name("pg2ch_table_state")
                       .Help("1 for each table's current state: init, copying, catching_up, streaming, stopped "
                             "(`pg2ch status` says why a table stopped)")
                       .Register(*registry_)),
      target_parts_(BuildGauge()
                        .Name("pg2ch_target_active_parts")
                        .Help("Active parts in the fullest partition of each table's ClickHouse target, looked at "
                              "every 10 s (ClickHouse delays INSERTs at parts_to_delay_insert, refuses them at "
                              "parts_to_throw_insert)")
                        .Register(*registry_)),
      runs_(BuildCounter()
                .Name("pg2ch_runs_total")
                .Help("Starts of the pipeline's run in this process (the first and every retry)")
                .Register(*registry_)
                .Add({})),
      kafka_messages_(BuildCounter()
                          .Name("pg2ch_kafka_messages_delivered_total")
                          .Help("Messages the Kafka brokers confirmed (sink = kafka or both)")
                          .Register(*registry_)
                          .Add({})),
      kafka_bytes_(BuildCounter()
                       .Name("pg2ch_kafka_delivered_bytes_total")
                       .Help("Bytes of the messages the Kafka brokers confirmed")
                       .Register(*registry_)
                       .Add({})),
      insert_seconds_(BuildHistogram()
                          .Name("pg2ch_insert_duration_seconds")
                          .Help("Time of one ClickHouse INSERT of a batch, retries included")
                          .Register(*registry_)
                          .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                                           1, 2.5, 5, 10, 30, 60})),
      batch_rows_(BuildHistogram()
                      .Name("pg2ch_batch_rows")
                      .Help("Rows per ClickHouse INSERT")
                      .Register(*registry_)
                      .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 100, 1000, 10000, 100000, 1000000})),
      ready_(BuildGauge()
                 .Name("pg2ch_ready")
                 .Help("1 while the pipeline streams (initial copy done, not retrying)")
                 .Register(*registry_)
                 .Add({})),
      last_write_(BuildGauge()
                      .Name("pg2ch_last_write_timestamp_seconds")
                      .Help("Unix time of the last batch the destination accepted")
                      .Register(*registry_)
                      .Add({})),
      budget_waiting_(BuildGauge()
                          .Name("pg2ch_batches_waiting_for_insert_budget")
                          .Help("Batches due by time that wait for batch.max_inserts_per_second (0: none waits)")
                          .Register(*registry_)
                          .Add({})),
      lag_bytes_(BuildGauge()
                     .Name("pg2ch_replication_lag_bytes")
                     .Help("WAL between the server's current position and the slot's confirmed flush (logical mode)")
                     .Register(*registry_)),
      lag_seconds_(BuildGauge()
                       .Name("pg2ch_replication_lag_seconds")
                       .Help("Age of the oldest committed change received and not yet durable in the destination "
                             "(logical mode; 0 when all is written)")
                       .Register(*registry_)),
      retained_wal_(BuildGauge()
                        .Name("pg2ch_slot_retained_wal_bytes")
                        .Help("WAL the server keeps for the replication slot (current position - restart_lsn)")
                        .Register(*registry_)),
      pending_messages_(BuildGauge()
                            .Name("pg2ch_kafka_consumer_lag_messages")
                            .Help("Messages in the assigned partitions not yet read by this consumer (mode = kafka)")
                            .Register(*registry_)),
      alive_ns_(steady_ns()) {
  BuildGauge()
      .Name("pg2ch_info")
      .Help("The pipeline this process runs: name, capture mode, sink and pg2ch version")
      .Register(*registry_)
      .Add({{"pipeline", cfg.name}, {"mode", cfg.mode}, {"sink", cfg.sink}, {"version", PG2CH_VERSION}})
      .Set(1);
  set_state(PipelineState::Starting);
  // "No write since" counts from the start, not from 1970.
  last_write_.Set(unix_seconds());
  // Every kind exists from the start, so increase() sees the first error of a kind too.
  for (ErrorKind k : {ErrorKind::Config, ErrorKind::Connection, ErrorKind::Auth, ErrorKind::Permission,
                      ErrorKind::Schema, ErrorKind::Data, ErrorKind::Protocol, ErrorKind::Server,
                      ErrorKind::Internal}) {
    retries_.Add({{"kind", std::string(pg2ch::to_string(k))}});
    errors_.Add({{"kind", std::string(pg2ch::to_string(k))}});
  }
}

PipelineMetrics::TableSeries& PipelineMetrics::series(const pipeline::TableSchema& table) {
  std::lock_guard lock(mutex_);
  auto& cached = by_schema_[&table];
  if (cached) return *cached;
  const std::string name = table.qualified_source();
  auto& s = by_name_[name];
  if (!s) {
    s = std::make_unique<TableSeries>();
    for (std::size_t i = 0; i < kOps.size(); ++i) s->changes[i] = &changes_.Add({{"table", name}, {"op", kOps[i]}});
    s->rows_written = &rows_written_.Add({{"table", name}});
    s->bytes_written = &bytes_written_.Add({{"table", name}});
    s->inserts = &inserts_.Add({{"table", name}});
    s->copied_rows = &copied_rows_.Add({{"table", name}});
  }
  cached = s.get();
  return *s;
}

void PipelineMetrics::changed(const pipeline::TableSchema& table, pipeline::ChangeOp op) {
  if (&table != last_schema_) {
    last_series_ = &series(table);
    last_schema_ = &table;
  }
  last_series_->changes[static_cast<std::size_t>(op)]->Increment();
}

void PipelineMetrics::written(const pipeline::TableSchema& table, std::size_t rows, std::size_t bytes,
                              std::chrono::duration<double> took) {
  TableSeries& s = series(table);
  s.rows_written->Increment(static_cast<double>(rows));
  s.bytes_written->Increment(static_cast<double>(bytes));
  s.inserts->Increment();
  insert_seconds_.Observe(took.count());
  batch_rows_.Observe(static_cast<double>(rows));
  last_write_.Set(unix_seconds());
}

void PipelineMetrics::delivered(std::size_t messages, std::size_t bytes) {
  kafka_messages_.Increment(static_cast<double>(messages));
  kafka_bytes_.Increment(static_cast<double>(bytes));
  last_write_.Set(unix_seconds());
}

void PipelineMetrics::copied(const pipeline::TableSchema& table, std::size_t rows, std::size_t /*bytes*/) {
  series(table).copied_rows->Increment(static_cast<double>(rows));
}

void PipelineMetrics::lag(const pipeline::LagSample& sample) {
  if (sample.lag_bytes) lag_bytes_.Add({}).Set(static_cast<double>(*sample.lag_bytes));
  if (sample.lag_seconds) lag_seconds_.Add({}).Set(*sample.lag_seconds);
  if (sample.retained_wal_bytes) retained_wal_.Add({}).Set(static_cast<double>(*sample.retained_wal_bytes));
  if (sample.pending_messages) pending_messages_.Add({}).Set(static_cast<double>(*sample.pending_messages));
  if (sample.wal_status) {
    for (const char* status : kWalStatuses) wal_status_.Add({{"status", status}}).Set(*sample.wal_status == status);
  }
}

void PipelineMetrics::run_started() {
  runs_.Increment();
  std::lock_guard lock(mutex_);
  by_schema_.clear();  // the previous run's schemas are gone; their addresses may come back
  last_schema_ = nullptr;
  last_series_ = nullptr;
}

void PipelineMetrics::set_state(PipelineState s) {
  state_ = s;
  for (PipelineState each : kStates) state_gauge_.Add({{"state", to_string(each)}}).Set(each == s ? 1 : 0);
  ready_.Set(s == PipelineState::Streaming ? 1 : 0);
}

void PipelineMetrics::target_parts(const pipeline::TableSchema& table, std::int64_t parts) {
  std::lock_guard lock(mutex_);
  target_parts_.Add({{"table", table.qualified_source()}}).Set(static_cast<double>(parts));
}

void PipelineMetrics::budget_waiting(std::size_t batches) { budget_waiting_.Set(static_cast<double>(batches)); }

void PipelineMetrics::table_state(const pipeline::TableSchema& table, std::string_view state) {
  const std::string name = table.qualified_source();
  std::lock_guard lock(mutex_);
  for (std::string_view each : kTableStates) {
    table_state_.Add({{"table", name}, {"state", std::string(each)}}).Set(each == state ? 1 : 0);
  }
}

void PipelineMetrics::table_forgotten(const pipeline::TableSchema& table) {
  const std::string name = table.qualified_source();
  std::lock_guard lock(mutex_);
  for (std::string_view each : kTableStates) {
    table_state_.Remove(&table_state_.Add({{"table", name}, {"state", std::string(each)}}));
  }
}

void PipelineMetrics::retried(ErrorKind kind) { retries_.Add({{"kind", std::string(pg2ch::to_string(kind))}}).Increment(); }
void PipelineMetrics::failed(ErrorKind kind) { errors_.Add({{"kind", std::string(pg2ch::to_string(kind))}}).Increment(); }

void PipelineMetrics::alive() { alive_ns_.store(steady_ns(), std::memory_order_relaxed); }

std::chrono::steady_clock::duration PipelineMetrics::since_alive() const {
  return std::chrono::nanoseconds(steady_ns() - alive_ns_.load(std::memory_order_relaxed));
}

std::string PipelineMetrics::exposition() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

std::map<std::string, PipelineMetrics::TableTotals> PipelineMetrics::table_totals() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, TableTotals> out;
  for (const auto& [name, s] : by_name_) {
    TableTotals t;
    for (auto* c : s->changes) t.changes += static_cast<std::uint64_t>(c->Value());
    t.rows_written = static_cast<std::uint64_t>(s->rows_written->Value());
    out[name] = t;
  }
  return out;
}

}  // namespace pg2ch::metrics
