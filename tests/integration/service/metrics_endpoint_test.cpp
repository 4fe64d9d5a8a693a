// The pg2ch binary's HTTP endpoint ([service] metrics_listen) against real servers: readiness
// follows the start-up, and the metrics page counts exactly the changes that reached ClickHouse.
#include <gtest/gtest.h>
#include <httplib.h>

#include "support/fixture.h"
#include "support/free_port.h"
#include "support/pg2ch_cli.h"
#include "support/prometheus_page.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

int status_of(httplib::Client& client, const std::string& path) {
  auto r = client.Get(path.c_str());
  return r ? r->status : -1;
}

TEST(MetricsEndpoint, ReadinessFollowsStartUpAndTheCountsMatchTheRows) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 1000) g");
  auto cfg = make_test_config(db, {"public.t"});
  const int port = free_loopback_port();
  cfg.service.metrics_listen = "127.0.0.1:" + std::to_string(port);
  const auto file = write_config_file(cfg, db.dir() / "pg2ch.toml");

  // An open transaction holds slot creation, and with it the start-up: not ready, yet healthy.
  auto holder = db.pg_connect();
  holder.exec("BEGIN");
  holder.exec("INSERT INTO t VALUES (5000, 'held open')");
  auto run = pg2ch_cli(db, file, {"run"}, "run");
  httplib::Client client("127.0.0.1", port);
  ASSERT_TRUE(wait_until([&] { return status_of(client, "/healthz") == 200; }, 30s, 20ms)) << run.describe();
  EXPECT_EQ(status_of(client, "/readyz"), 503) << run.describe();
  holder.exec("COMMIT");
  ASSERT_TRUE(wait_until([&] { return status_of(client, "/readyz") == 200; }, 60s, 20ms)) << run.describe();

  db.pg_exec("INSERT INTO t SELECT g, 'new' FROM generate_series(2001, 2100) g");
  db.pg_exec("UPDATE t SET v = 'changed' WHERE id <= 10");
  db.pg_exec("DELETE FROM t WHERE id BETWEEN 11 AND 15");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << run.describe();

  std::vector<PrometheusSample> page;
  const std::map<std::string, std::string> table = {{"table", "public.t"}};
  const auto changes = [&](const char* op) {
    auto labels = table;
    labels["op"] = op;
    return sample_value(page, "pg2ch_changes_total", labels);
  };
  // The counters move once the sink has written the batch: poll until the last write shows.
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = client.Get("/metrics");
        if (!r || r->status != 200) return false;
        page = parse_prometheus(r->body);
        EXPECT_EQ(promtool_findings(r->body), "");
        return sample_value(page, "pg2ch_rows_written_total", table).value_or(0) >= 115;
      },
      30s, 100ms))
      << run.describe();
  // The slot's snapshot waited for the held transaction, so its row came with the copy.
  EXPECT_EQ(changes("insert"), 100);
  EXPECT_EQ(changes("update"), 10);
  EXPECT_EQ(changes("delete"), 5);
  EXPECT_EQ(sample_value(page, "pg2ch_rows_written_total", table), 115);
  EXPECT_EQ(sample_value(page, "pg2ch_snapshot_rows_total", table), 1001);
  EXPECT_EQ(sample_value(page, "pg2ch_state", {{"state", "streaming"}}), 1);
  EXPECT_EQ(sample_value(page, "pg2ch_info", {{"mode", "logical"}, {"pipeline", cfg.name}}), 1);
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

}  // namespace
}  // namespace pg2ch::test
