// The metrics page as Prometheus reads it: parsed by the reference parser, linted by promtool,
// and every value checked against what the pipeline reported.
#include "metrics/pipeline_metrics.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "metrics/http_endpoint.h"
#include "support/prometheus_page.h"

namespace pg2ch::metrics {
namespace {

using test::parse_prometheus;
using test::sample_value;
using namespace std::chrono_literals;

pipeline::TableSchema table(const std::string& schema, const std::string& name) {
  pipeline::TableSchema t;
  t.source_schema = schema;
  t.source_name = name;
  t.target_name = name;
  return t;
}

config::Config pipeline_config() {
  config::Config cfg;
  cfg.name = "orders-to-ch";
  cfg.mode = "logical";
  return cfg;
}

TEST(PipelineMetrics, PageParsesPassesPromtoolAndCarriesWhatWasReported) {
  PipelineMetrics m(pipeline_config());
  const auto orders = table("public", "orders");
  const auto odd = table("public", "with \"quote\" and \\ backslash");
  m.run_started();
  for (int i = 0; i < 3; ++i) m.changed(orders, pipeline::ChangeOp::Insert);
  m.changed(orders, pipeline::ChangeOp::Update);
  m.changed(odd, pipeline::ChangeOp::Delete);
  m.written(orders, 4, 400, 20ms);
  m.copied(orders, 1000, 1 << 20);
  m.retried(ErrorKind::Connection);
  m.lag({.lag_bytes = 4096, .retained_wal_bytes = 8192, .wal_status = "extended", .lag_seconds = 1.5,
         .pending_messages = 12});
  m.set_state(PipelineState::Streaming);

  const std::string page = m.exposition();
  EXPECT_EQ(test::promtool_findings(page), "") << page;
  const auto samples = parse_prometheus(page);
  EXPECT_EQ(sample_value(samples, "pg2ch_changes_total", {{"table", "public.orders"}, {"op", "insert"}}), 3);
  EXPECT_EQ(sample_value(samples, "pg2ch_changes_total", {{"table", "public.orders"}, {"op", "update"}}), 1);
  EXPECT_EQ(sample_value(samples, "pg2ch_changes_total",
                         {{"table", "public.with \"quote\" and \\ backslash"}, {"op", "delete"}}),
            1);
  EXPECT_EQ(sample_value(samples, "pg2ch_rows_written_total", {{"table", "public.orders"}}), 4);
  EXPECT_EQ(sample_value(samples, "pg2ch_written_bytes_total", {{"table", "public.orders"}}), 400);
  EXPECT_EQ(sample_value(samples, "pg2ch_snapshot_rows_total", {{"table", "public.orders"}}), 1000);
  EXPECT_EQ(sample_value(samples, "pg2ch_insert_duration_seconds_count"), 1);
  EXPECT_EQ(sample_value(samples, "pg2ch_insert_duration_seconds_bucket", {{"le", "0.025"}}), 1);
  EXPECT_EQ(sample_value(samples, "pg2ch_insert_duration_seconds_bucket", {{"le", "0.01"}}), 0);
  EXPECT_EQ(sample_value(samples, "pg2ch_retries_total", {{"kind", "connection"}}), 1);
  EXPECT_EQ(sample_value(samples, "pg2ch_replication_lag_bytes"), 4096);
  EXPECT_EQ(sample_value(samples, "pg2ch_replication_lag_seconds"), 1.5);
  EXPECT_EQ(sample_value(samples, "pg2ch_slot_retained_wal_bytes"), 8192);
  EXPECT_EQ(sample_value(samples, "pg2ch_slot_wal_status", {{"status", "extended"}}), 1);
  EXPECT_EQ(sample_value(samples, "pg2ch_kafka_consumer_lag_messages"), 12);
  EXPECT_EQ(sample_value(samples, "pg2ch_slot_wal_status", {{"status", "reserved"}}), 0);
  EXPECT_EQ(sample_value(samples, "pg2ch_state", {{"state", "streaming"}}), 1);
  EXPECT_EQ(sample_value(samples, "pg2ch_state", {{"state", "starting"}}), 0);
  EXPECT_EQ(sample_value(samples, "pg2ch_ready"), 1);
  EXPECT_EQ(sample_value(samples, "pg2ch_info", {{"pipeline", "orders-to-ch"}, {"mode", "logical"}}), 1);
  EXPECT_EQ(sample_value(samples, "pg2ch_runs_total"), 1);
  EXPECT_EQ(sample_value(samples, "pg2ch_errors_total", {{"kind", "auth"}}), 0) << "every kind from the start";
}

TEST(PipelineMetrics, AModeWithoutALagExportsNoLagRatherThanZero) {
  PipelineMetrics m(pipeline_config());
  m.lag({});
  const auto samples = parse_prometheus(m.exposition());
  EXPECT_FALSE(sample_value(samples, "pg2ch_replication_lag_seconds").has_value());
  EXPECT_FALSE(sample_value(samples, "pg2ch_replication_lag_bytes").has_value());
  EXPECT_GT(sample_value(samples, "pg2ch_last_write_timestamp_seconds").value_or(0), 1.7e9) << "the start time";
}

// A table dropped at the source with its target (logical.on_table_dropped = "drop") leaves the
// state gauge; the others stay.
TEST(PipelineMetrics, AForgottenTableLeavesTheStateGauge) {
  PipelineMetrics m(pipeline_config());
  const auto gone = table("public", "gone");
  const auto other = table("public", "other");
  m.table_state(gone, "stopped");
  m.table_state(other, "streaming");
  m.table_forgotten(gone);
  const auto samples = parse_prometheus(m.exposition());
  for (const char* state : {"init", "copying", "catching_up", "streaming", "stopped"}) {
    EXPECT_FALSE(sample_value(samples, "pg2ch_table_state", {{"table", "public.gone"}, {"state", state}}).has_value())
        << state;
  }
  EXPECT_EQ(sample_value(samples, "pg2ch_table_state", {{"table", "public.other"}, {"state", "streaming"}}), 1);
}

TEST(PipelineMetrics, CountersSurviveARestartedRunWithNewSchemaObjects) {
  PipelineMetrics m(pipeline_config());
  m.run_started();
  {
    const auto first = table("public", "t");
    m.changed(first, pipeline::ChangeOp::Insert);
  }
  m.run_started();  // the error policy's retry: new TableSchema objects, maybe at the old address
  const auto second = table("public", "u");
  m.changed(second, pipeline::ChangeOp::Insert);
  m.changed(second, pipeline::ChangeOp::Insert);
  const auto samples = parse_prometheus(m.exposition());
  EXPECT_EQ(sample_value(samples, "pg2ch_changes_total", {{"table", "public.t"}, {"op", "insert"}}), 1);
  EXPECT_EQ(sample_value(samples, "pg2ch_changes_total", {{"table", "public.u"}, {"op", "insert"}}), 2);
  EXPECT_EQ(sample_value(samples, "pg2ch_runs_total"), 2);
}

TEST(HttpEndpoint, ServesMetricsHealthAndReadiness) {
  PipelineMetrics m(pipeline_config());
  HttpEndpoint endpoint("127.0.0.1:0", m);
  httplib::Client client("127.0.0.1", endpoint.port());

  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503) << "starting is not ready";
  EXPECT_NE(ready->body.find("starting"), std::string::npos) << ready->body;
  m.set_state(PipelineState::Streaming);
  EXPECT_EQ(client.Get("/readyz")->status, 200);
  m.set_state(PipelineState::Retrying);
  EXPECT_EQ(client.Get("/readyz")->status, 503);

  m.alive();
  EXPECT_EQ(client.Get("/healthz")->status, 200);

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  EXPECT_EQ(sample_value(parse_prometheus(metrics->body), "pg2ch_state", {{"state", "retrying"}}), 1);
  EXPECT_EQ(client.Get("/nothing-here")->status, 404);
}

TEST(HttpEndpoint, AnAddressInUseNamesTheSetting) {
  PipelineMetrics m(pipeline_config());
  HttpEndpoint first("127.0.0.1:0", m);
  try {
    HttpEndpoint second("127.0.0.1:" + std::to_string(first.port()), m);
    FAIL() << "a second listener on the same port";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("service.metrics_listen"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pg2ch::metrics
