#include "pipeline/make_change_sink.h"

#include "clickhouse/http_client.h"
#include "clickhouse/target_table.h"
#include "common/error.h"
#include "kafka/kafka_change_sink.h"
#include "pipeline/clickhouse_change_sink.h"
#include "pipeline/clickhouse_endpoint.h"
#include "pipeline/observed_sink.h"

namespace pg2ch::pipeline {
namespace {

// ClickHouse's bulk load: one streaming INSERT ... FORMAT RowBinary per range, on a connection
// of each writer's own.
// With a Distributed target the INSERT is synchronous (clickhouse/cluster_layout.h), like the
// change sink's.
class ClickHouseBulkWriter final : public BulkWriter {
 public:
  ClickHouseBulkWriter(const clickhouse::Endpoint& endpoint, const std::string& database,
                       const clickhouse::TargetLayout& layout)
      : client_(endpoint), database_(database), layout_(layout), settings_(clickhouse::insert_settings(layout)) {
    // A copy always starts from an emptied target, yet ClickHouse remembers the blocks it took
    // before the TRUNCATE (Replicated tables in ZooKeeper, others with
    // non_replicated_deduplication_window): a copy of unchanged rows would be dropped as a repeat.
    settings_["insert_deduplicate"] = "0";
  }
  void write(const TableSchema& table, const std::function<std::string_view()>& next_chunk,
             const std::function<std::uint64_t()>& rows_sent) override {
    const std::string what = "copy of " + table.qualified_source() + " into " + database_ + "." + table.target_name;
    try {
      client_.capabilities();  // once per writer: the result has written rows where the version reports them
      const auto result =
          client_.insert_stream(clickhouse::insert_statement(database_, table, layout_), next_chunk, settings_);
      // A Distributed table forwards the rows to the shards; what its summary counts is not checked.
      if (!layout_.distributed) clickhouse::check_rows_written(what, rows_sent(), result, false);
    } catch (const Error& e) {
      rethrow_with_context(e, what);  // the server's message may not name the table
    }
  }

 private:
  clickhouse::HttpClient client_;
  const std::string& database_;
  const clickhouse::TargetLayout& layout_;
  std::map<std::string, std::string> settings_;
};

class ClickHouseBulkLoad final : public BulkLoad {
 public:
  ClickHouseBulkLoad(clickhouse::Endpoint endpoint, std::string database, clickhouse::TargetLayout layout)
      : endpoint_(std::move(endpoint)), database_(std::move(database)), layout_(std::move(layout)) {}
  std::unique_ptr<BulkWriter> writer() override {
    return std::make_unique<ClickHouseBulkWriter>(endpoint_, database_, layout_);
  }

 private:
  clickhouse::Endpoint endpoint_;
  std::string database_;
  clickhouse::TargetLayout layout_;
};

// ClickHouseChangeSink borrows its client (tests hand it one); this keeps the client alive.
class OwningClickHouseSink final : public ChangeSink {
 public:
  OwningClickHouseSink(const config::Config& cfg, CurrentRowFetcher* fetcher, PipelineObserver* observer)
      : client_(std::make_unique<clickhouse::HttpClient>(clickhouse_endpoint(cfg))),
        sink_(*client_, cfg.clickhouse.database, clickhouse_layout(cfg), cfg.batch, fetcher),
        bulk_(client_->endpoint(), cfg.clickhouse.database, clickhouse_layout(cfg)) {
    sink_.set_observer(observer);
  }
  BulkLoad* bulk_load() override { return &bulk_; }

  void begin_transaction() override { sink_.begin_transaction(); }
  void transaction_context(const TransactionContext& tx) override { sink_.transaction_context(tx); }
  void insert(const TableSchema& t, std::span<const ValueRef> row, std::uint64_t version) override {
    sink_.insert(t, row, version);
  }
  void update(const TableSchema& t, std::span<const ValueRef> old_row, std::span<const ValueRef> new_row,
              std::uint64_t version) override {
    sink_.update(t, old_row, new_row, version);
  }
  void remove(const TableSchema& t, std::span<const ValueRef> old_row, std::uint64_t version) override {
    sink_.remove(t, old_row, version);
  }
  void truncate(const TableSchema& t) override { sink_.truncate(t); }
  void commit_transaction(Position position) override { sink_.commit_transaction(position); }
  void source_idle(Position position) override { sink_.source_idle(position); }
  std::optional<std::chrono::milliseconds> poll() override { return sink_.poll(); }
  void discard(const TableSchema& t) override { sink_.discard(t); }
  void flush() override { sink_.flush(); }
  std::optional<Position> durable_position() const override { return sink_.durable_position(); }
  SinkStats stats() const override { return sink_.stats(); }
  void set_batch_limits(const config::BatchConfig& limits) override { sink_.set_batch_limits(limits); }
  void set_refusal_handler(RefusalHandler handler) override { sink_.set_refusal_handler(std::move(handler)); }

 private:
  std::unique_ptr<clickhouse::HttpClient> client_;
  ClickHouseChangeSink sink_;
  ClickHouseBulkLoad bulk_;
};

// sink = "both": every change goes to ClickHouse and to Kafka. A position is durable only when
// both have it, so the source is acknowledged at the minimum of the two.
class FanOutSink final : public ChangeSink {
 public:
  FanOutSink(std::unique_ptr<ChangeSink> a, std::unique_ptr<ChangeSink> b) : a_(std::move(a)), b_(std::move(b)) {}

  void begin_transaction() override {
    a_->begin_transaction();
    b_->begin_transaction();
  }
  void transaction_context(const TransactionContext& tx) override {
    a_->transaction_context(tx);
    b_->transaction_context(tx);
  }
  void insert(const TableSchema& t, std::span<const ValueRef> row, std::uint64_t version) override {
    a_->insert(t, row, version);
    b_->insert(t, row, version);
  }
  void update(const TableSchema& t, std::span<const ValueRef> old_row, std::span<const ValueRef> new_row,
              std::uint64_t version) override {
    a_->update(t, old_row, new_row, version);
    b_->update(t, old_row, new_row, version);
  }
  void remove(const TableSchema& t, std::span<const ValueRef> old_row, std::uint64_t version) override {
    a_->remove(t, old_row, version);
    b_->remove(t, old_row, version);
  }
  void truncate(const TableSchema& t) override {
    a_->truncate(t);
    b_->truncate(t);
  }
  void commit_transaction(Position position) override {
    a_->commit_transaction(position);
    b_->commit_transaction(position);
  }
  void source_idle(Position position) override {
    a_->source_idle(position);
    b_->source_idle(position);
  }
  std::optional<std::chrono::milliseconds> poll() override {
    const auto x = a_->poll();
    const auto y = b_->poll();
    if (x && y) return std::min(*x, *y);
    return x ? x : y;
  }
  void discard(const TableSchema& t) override {
    a_->discard(t);
    b_->discard(t);
  }
  void flush() override {
    a_->flush();
    b_->flush();
  }
  bool consumers_may_hold(const TableSchema& t) override {
    return a_->consumers_may_hold(t) || b_->consumers_may_hold(t);
  }
  std::optional<Position> durable_position() const override {
    const auto x = a_->durable_position();
    const auto y = b_->durable_position();
    if (!x || !y) return std::nullopt;
    return std::min(*x, *y);
  }
  SinkStats stats() const override {
    const SinkStats x = a_->stats(), y = b_->stats();
    return {x.rows_written + y.rows_written, x.bytes_written + y.bytes_written, x.inserts + y.inserts};
  }
  void set_batch_limits(const config::BatchConfig& limits) override {
    a_->set_batch_limits(limits);
    b_->set_batch_limits(limits);
  }
  void set_refusal_handler(RefusalHandler handler) override {
    a_->set_refusal_handler(handler);
    b_->set_refusal_handler(std::move(handler));
  }

 private:
  std::unique_ptr<ChangeSink> a_, b_;
};

std::unique_ptr<ChangeSink> make_kafka_sink(const config::Config& cfg, PipelineObserver* observer) {
  auto sink =
      std::make_unique<kafka::KafkaChangeSink>(cfg.kafka, kafka::EnvelopeContext{cfg.name, cfg.postgres.database});
  sink->set_observer(observer);
  return sink;
}

std::unique_ptr<ChangeSink> make_destination(const config::Config& cfg, CurrentRowFetcher* toast_fetcher,
                                             PipelineObserver* observer) {
  if (cfg.sink == "clickhouse") return std::make_unique<OwningClickHouseSink>(cfg, toast_fetcher, observer);
  if (cfg.sink == "kafka") return make_kafka_sink(cfg, observer);
  if (cfg.sink == "both") {
    return std::make_unique<FanOutSink>(std::make_unique<OwningClickHouseSink>(cfg, toast_fetcher, observer),
                                        make_kafka_sink(cfg, observer));
  }
  throw Error(ErrorKind::Config, "sink = \"" + cfg.sink + "\" is not known", "use clickhouse, kafka or both");
}

}  // namespace

std::unique_ptr<ChangeSink> make_change_sink(const config::Config& cfg, CurrentRowFetcher* toast_fetcher,
                                             PipelineObserver* observer) {
  auto sink = make_destination(cfg, toast_fetcher, observer);
  if (!observer) return sink;
  return std::make_unique<ObservedSink>(std::move(sink), *observer);
}

}  // namespace pg2ch::pipeline
