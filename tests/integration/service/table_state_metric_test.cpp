// Per-table state where an operator looks, in the modes without a logical slot (poll, notify,
// outbox with either payload): `pg2ch run`'s /metrics (pg2ch_table_state{table,state}, parsed by
// the Prometheus parser) and `status --json` agree that both tables stream; a value one target
// cannot hold stops that table only, both say so (status with the reason and the fix), and the
// other table streams on under a concurrent writer, equal row by row.
#include <gtest/gtest.h>

#include "capture/capture_mode.h"
#include "outbox/outbox_support.h"
#include "poll/poll_support.h"
#include "support/background_writer.h"
#include "support/free_port.h"
#include "support/metrics_scrape.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// "poll", "notify", or "outbox_<payload>".
class TableStateMetric : public ::testing::TestWithParam<std::string> {};

config::Config mode_config(const TestDatabase& db, const std::string& variant) {
  if (variant.starts_with("outbox_")) {
    return outbox_config(db, {"public.prices", "public.other"}, variant.substr(std::string("outbox_").size()));
  }
  auto cfg = watermark_config(db, variant, "prices", "updated_at");
  config::TableSelector other;
  other.pattern = "public.other";
  cfg.tables.push_back(other);
  return cfg;
}

bool metric_is(int port, const std::string& table, const std::string& state) {
  return table_state_metric(port, table, state) == 1.0;
}

TEST_P(TableStateMetric, ABadValueStopsOneTableInTheMetricAndStatusWhileTheOtherStreams) {
  const std::string variant = GetParam();
  auto db = make_test_database();
  create_updated_at_table(db, "other");
  create_prices_table(db);
  auto cfg = mode_config(db, variant);
  const int port = free_loopback_port();
  cfg.service.metrics_listen = "127.0.0.1:" + std::to_string(port);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  if (cfg.mode != "poll") capture::capture_mode(cfg.mode).setup(cfg);
  db.pg_exec("INSERT INTO prices (price) SELECT g FROM generate_series(1, 50) g");
  db.pg_exec("INSERT INTO other (v) SELECT 'a' || g FROM generate_series(1, 50) g");
  const TableQuery prices{"SELECT id, price FROM prices ORDER BY id",
                          "SELECT id, price FROM prices FINAL WHERE _deleted = 0 ORDER BY id"};
  const auto other = same_columns("other", "id, v", "id");

  auto run = pg2ch_cli(db, config_file, {"run"}, "run");
  ASSERT_TRUE(wait_equal(db, prices)) << run.describe();
  for (const char* table : {"public.prices", "public.other"}) {
    ASSERT_TRUE(wait_until([&] { return metric_is(port, table, "streaming"); }, 60s)) << table << run.describe();
    EXPECT_EQ(table_state_metric(port, table, "stopped"), 0.0) << table;
  }
  const auto streaming = pg2ch_status_json(db, config_file, "status-streaming");
  EXPECT_EQ(status_table_row(streaming, "public.prices").state, "streaming");
  EXPECT_EQ(status_table_row(streaming, "public.other").state, "streaming");

  auto writer = insert_update_writer(db, "other");
  // A Decimal(10, 2) cannot hold NaN.
  db.pg_exec("INSERT INTO prices (price) VALUES (51), ('NaN'), (53)");
  ASSERT_TRUE(wait_until([&] { return metric_is(port, "public.prices", "stopped"); }, 60s)) << run.describe();

  // Read while the writer goes on.
  EXPECT_EQ(table_state_metric(port, "public.prices", "streaming"), 0.0);
  EXPECT_EQ(table_state_metric(port, "public.other", "streaming"), 1.0);
  EXPECT_EQ(table_state_metric(port, "public.other", "stopped"), 0.0);
  const auto stopped = pg2ch_status_json(db, config_file, "status-stopped", /*attention_ok=*/true);
  const auto row = status_table_row(stopped, "public.prices");
  EXPECT_EQ(row.state, "stopped");
  for (const char* needle : {"public.prices", "price", "id=52"}) {
    EXPECT_NE(row.last_error.find(needle), std::string::npos) << "missing '" << needle << "' in " << row.last_error;
  }
  EXPECT_EQ(status_table_row(stopped, "public.other").state, "streaming");
  ASSERT_EQ(stopped["attention"].Size(), 1u);
  const std::string attention = stopped["attention"][0].GetString();
  EXPECT_NE(attention.find("public.prices stopped"), std::string::npos) << attention;
  EXPECT_NE(attention.find("(fix: "), std::string::npos) << attention;
  EXPECT_NE(attention.find(R"(types = { "price" = "String" })"), std::string::npos) << attention;

  auto text = pg2ch_cli(db, config_file, {"status"}, "status-text");
  EXPECT_EQ(text.wait(60s), 3) << "a stopped table needs attention: " << text.describe();
  EXPECT_NE(text.stdout_text().find("stopped"), std::string::npos) << text.stdout_text();

  writer.finish();
  ASSERT_TRUE(wait_equal(db, other)) << "the other table streams on: " << run.describe();
  EXPECT_EQ(table_state_metric(port, "public.other", "streaming"), 1.0);
  EXPECT_EQ(db.ch_rows("SELECT count() > 50 FROM other FINAL"), (Rows{{"1"}})) << "the writer's rows arrived";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM prices FINAL WHERE id >= 52"), (Rows{{"0"}}))
      << "nothing of the stopped table from the refused row on";

  EXPECT_TRUE(run.running()) << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, TableStateMetric, ::testing::Values("poll", "notify", "outbox_key", "outbox_row"));

}  // namespace
}  // namespace pg2ch::test
