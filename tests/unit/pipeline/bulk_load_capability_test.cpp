// The initial copy takes the sink's bulk load only where the sink has one: ClickHouse alone.
// Kafka, and "both" (Kafka must see every row as an event), copy change by change.
#include <gtest/gtest.h>

#include "pipeline/make_change_sink.h"

namespace pg2ch::pipeline {
namespace {

struct CountingObserver final : PipelineObserver {
  void changed(const TableSchema&, ChangeOp) override {}
  void written(const TableSchema&, std::size_t, std::size_t, std::chrono::duration<double>) override {}
  void delivered(std::size_t, std::size_t) override {}
  void copied(const TableSchema&, std::size_t, std::size_t) override {}
  void lag(const LagSample&) override {}
};

config::Config sink_config(const std::string& sink) {
  config::Config cfg;
  cfg.sink = sink;
  cfg.kafka.brokers = "127.0.0.1:1";  // never contacted: building a sink connects to nothing
  return cfg;
}

TEST(BulkLoadCapability, OnlyAClickHouseSinkOffersOne) {
  CountingObserver observer;
  EXPECT_NE(make_change_sink(sink_config("clickhouse"), nullptr)->bulk_load(), nullptr);
  EXPECT_NE(make_change_sink(sink_config("clickhouse"), nullptr, &observer)->bulk_load(), nullptr)
      << "the metrics decorator passes it on";
  EXPECT_EQ(make_change_sink(sink_config("kafka"), nullptr)->bulk_load(), nullptr);
  EXPECT_EQ(make_change_sink(sink_config("both"), nullptr)->bulk_load(), nullptr);
}

}  // namespace
}  // namespace pg2ch::pipeline
