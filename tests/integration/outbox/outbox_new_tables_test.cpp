// mode = "outbox" with `schema.*`: a table created in that schema while the pipeline runs is found
// (capture/shared/new_tables.h), gets its triggers, is copied from a snapshot taken after them
// and then has its events drained, while the other table's events go on under a concurrent
// writer (inserts, updates, deletes in both); both end equal row by row, every column, with both
// payloads.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "outbox/outbox_support.h"
#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class OutboxNewTables : public ::testing::TestWithParam<std::string> {};

TEST_P(OutboxNewTables, ATableCreatedUnderASchemaWildcardIsCopiedAndDrainedWhileTheOtherStreams) {
  auto db = make_test_database();
  db.pg_exec("CREATE SCHEMA app");
  db.pg_exec("CREATE TABLE app.orders (id int PRIMARY KEY, v text, n int)");
  db.pg_exec("INSERT INTO app.orders SELECT g, 'o' || g, 0 FROM generate_series(1, 300) g");
  const auto cfg = outbox_config(db, {"app.*"}, GetParam());
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  const auto query = [](const std::string& t) {
    return TableQuery{"SELECT id, v, n FROM app." + t + " ORDER BY id",
                      "SELECT id, v, n FROM " + t + " FINAL WHERE _deleted = 0 ORDER BY id"};
  };
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, query("orders")));

  std::atomic<bool> items_exist{false};
  BackgroundWriter writer(db, [&](pg::Connection& c, int i) {
    const std::string n = std::to_string(i);
    c.exec("INSERT INTO app.orders VALUES (" + std::to_string(1000 + i) + ", 'w" + n + "', " + n + ")");
    c.exec("UPDATE app.orders SET n = n + 1 WHERE id = " + std::to_string(1 + (i * 7) % 300));
    if (!items_exist) return;
    c.exec("INSERT INTO app.items VALUES (" + std::to_string(100000 + i) + ", 'w" + n + "', " + n + ")");
    c.exec("UPDATE app.items SET n = n + 1, v = 'u' WHERE id = " + std::to_string(1 + (i * 13) % 5000));
    if (i % 4 == 0) c.exec("DELETE FROM app.items WHERE id = " + std::to_string(1 + (i * 31) % 5000));
  }, 3ms);
  std::this_thread::sleep_for(300ms);
  db.pg_exec("CREATE TABLE app.items (id int PRIMARY KEY, v text, n int)");
  db.pg_exec("INSERT INTO app.items SELECT g, 'before' || g, 0 FROM generate_series(1, 5000) g");
  items_exist = true;
  // Found within seconds (the writer goes on before, during and after its copy).
  ASSERT_TRUE(wait_until(
      [&] { return status_table_row(pg2ch_status_json(db, config_file, "status", true), "app.items").state ==
                   "streaming"; },
      60s));
  std::this_thread::sleep_for(1s);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, query("items")));
  EXPECT_TRUE(wait_equal(db, query("orders")));
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxNewTables, ::testing::Values("key", "row"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
