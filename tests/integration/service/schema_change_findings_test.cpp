// Not a regression test (DISABLED_: run with --gtest_also_run_disabled_tests): what each
// non-logical mode does when a table's columns change under a running pipeline and a writer.
// Prints one FINDING line per (mode, change): whether the pipeline died, the table's state and
// reason, and whether source and target agree on every source column. Its findings are the
// README table "Schema changes in the other modes".
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "capture/capture_mode.h"
#include "outbox/outbox_support.h"
#include "poll/poll_support.h"
#include "support/column_changes.h"
#include "support/kafka_route.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

using Param = std::tuple<std::string, int>;
class SchemaChangeFindings : public ::testing::TestWithParam<Param> {};

TEST_P(SchemaChangeFindings, DISABLED_Report) {
  const auto& [mode, index] = GetParam();
  const ColumnChange& change = kColumnChanges[index];
  auto db = make_test_database();
  create_updated_at_table(db, "o");
  create_changing_table(db, /*with_updated_at=*/true);
  std::unique_ptr<KafkaBroker> broker;
  std::optional<config::Config> producer;
  config::Config cfg;
  if (mode == "outbox") {
    cfg = outbox_config(db, {"public.t", "public.o"});
    outbox_setup(cfg);
  } else if (mode == "kafka") {
    broker = std::make_unique<KafkaBroker>();
    auto route = kafka_route(db, *broker, {"public.t", "public.o"}, 1);
    producer = route.producer;
    cfg = route.consumer;
  } else {
    cfg = watermark_config(db, mode, "t", "updated_at");
    config::TableSelector o;
    o.pattern = "public.o";
    cfg.tables.push_back(o);
    if (mode == "notify") capture::capture_mode(mode).setup(cfg);
  }
  db.pg_exec("INSERT INTO o (v) SELECT 'o' || g FROM generate_series(1, 20) g");
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  std::unique_ptr<PipelineRunner> prod;
  if (producer) {
    prod = std::make_unique<PipelineRunner>(*producer);
    prod->wait_ready();
  }
  PipelineRunner runner(cfg);
  runner.expect_failure();
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, n, w, v", "id"))) << runner.describe();
  {
    BackgroundWriter writer(db, [](pg::Connection& conn, int i) {
      conn.exec("INSERT INTO o (v) VALUES ('w" + std::to_string(i) + "')");
    }, 10ms);
    db.pg_exec(change.ddl);
    db.pg_exec(change.insert);
    db.pg_exec("UPDATE t SET id = id WHERE id = 2");
    std::this_thread::sleep_for(8s);
  }
  std::string t_state = "?", o_state = "?", reason;
  try {
    const auto status = pg2ch_status_json(db, config_file, "status", true);
    const auto t = status_table_row(status, "public.t");
    t_state = t.state;
    reason = t.last_error;
    o_state = status_table_row(status, "public.o").state;
  } catch (const std::exception& e) {
    reason = std::string("status: ") + e.what();
  }
  const auto cols = live_columns(db, "t", "updated_at");
  std::string equal;
  try {
    const auto r = wait_equal(db, same_columns("t", cols, "id"), 2s);
    equal = r ? "equal" : std::string("differ: ") + r.message();
  } catch (const std::exception& e) {
    equal = std::string("target query failed: ") + e.what();
  }
  const auto other = wait_equal(db, same_columns("o", "id, v", "id"), 5s);
  std::string target_cols;
  try {
    for (const auto& r : db.ch_rows("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND "
                                    "table = 't'")) {
      target_cols += r[0] + " " + r[1] + "; ";
    }
  } catch (const std::exception&) {
  }
  std::cout << fmt::format(
                   "FINDING mode={} change={} pipeline={} t={} o={} other_equal={} | t vs source ({}): {} | target: {} "
                   "| reason: {}\n",
                   mode, change.name, runner.failed() ? "DIED: " + runner.describe() : "running", t_state, o_state,
                   static_cast<bool>(other), cols, equal.substr(0, 400), target_cols, reason.substr(0, 400))
            << std::flush;
  try {
    runner.stop();
  } catch (const std::exception&) {
  }
  if (prod) prod->stop();
}

INSTANTIATE_TEST_SUITE_P(Modes, SchemaChangeFindings,
                         ::testing::Combine(::testing::Values("poll", "notify", "outbox", "kafka"),
                                            ::testing::Range(0, kColumnChangeCount)));

}  // namespace
}  // namespace pg2ch::test
