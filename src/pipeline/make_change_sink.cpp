#include "pipeline/make_change_sink.h"

#include "clickhouse/http_client.h"
#include "common/error.h"
#include "pipeline/clickhouse_change_sink.h"
#include "pipeline/clickhouse_endpoint.h"

namespace pg2ch::pipeline {
namespace {

// ClickHouseChangeSink borrows its client (tests hand it one); this keeps the client alive.
class OwningClickHouseSink final : public ChangeSink {
 public:
  OwningClickHouseSink(const config::Config& cfg, CurrentRowFetcher* fetcher)
      : client_(std::make_unique<clickhouse::HttpClient>(clickhouse_endpoint(cfg))),
        sink_(*client_, cfg.clickhouse.database, cfg.batch, fetcher) {}

  void begin_transaction() override { sink_.begin_transaction(); }
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
  void flush() override { sink_.flush(); }
  std::optional<Position> durable_position() const override { return sink_.durable_position(); }
  SinkStats stats() const override { return sink_.stats(); }

 private:
  std::unique_ptr<clickhouse::HttpClient> client_;
  ClickHouseChangeSink sink_;
};

}  // namespace

std::unique_ptr<ChangeSink> make_change_sink(const config::Config& cfg, CurrentRowFetcher* toast_fetcher) {
  if (cfg.sink == "clickhouse") return std::make_unique<OwningClickHouseSink>(cfg, toast_fetcher);
  throw Error(ErrorKind::Config, "sink = \"" + cfg.sink + "\" is not available in this build yet",
              "use sink = \"clickhouse\"");
}

}  // namespace pg2ch::pipeline
