// ClickHouse refusing one table's rows (its target changed by hand under a running pipeline: a
// column dropped) stops that table only: the other table streams on under a concurrent writer,
// status says why and how back, and once the target is mended `pg2ch resync` copies the table
// again to an exact end. It used to stop the whole pipeline.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(LogicalRefusedInsert, ATargetThatRefusesRowsStopsOnlyItsTable) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE a (id serial PRIMARY KEY, v text)");
  db.pg_exec("CREATE TABLE b (id serial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO a (v) SELECT 'a' || g FROM generate_series(1, 50) g");
  db.pg_exec("INSERT INTO b (v) SELECT 'b' || g FROM generate_series(1, 50) g");
  auto cfg = make_test_config(db);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  const auto a = same_columns("a", "id, v", "id");
  const auto b = same_columns("b", "id, v", "id");
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table);
  };

  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, a));
  ASSERT_TRUE(wait_equal(db, b));
  ASSERT_TRUE(wait_until([&] { return state_of("public.a").state == "streaming"; }, 60s));
  {
    BackgroundWriter writer(db, [](pg::Connection& conn, int i) {
      conn.exec("INSERT INTO b (v) VALUES ('w" + std::to_string(i) + "')");
      conn.exec("UPDATE b SET v = v || '+' WHERE id = " + std::to_string(1 + i % 50));
    });
    db.ch_exec("ALTER TABLE a DROP COLUMN v");  // by hand, under the running pipeline
    db.pg_exec("INSERT INTO a (v) VALUES ('refused')");
    ASSERT_TRUE(wait_until([&] { return state_of("public.a").state == "stopped"; }, 60s));
    db.pg_exec("UPDATE a SET v = 'after the stop' WHERE id = 3");
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_TRUE(wait_equal(db, b)) << "the other table streams on";
  EXPECT_FALSE(runner.failed()) << runner.describe();
  const auto stopped = state_of("public.a");
  EXPECT_NE(stopped.last_error.find("ClickHouse refused its rows"), std::string::npos) << stopped.last_error;
  EXPECT_EQ(state_of("public.b").state, "streaming");

  // Mended by hand, then copied again while the pipeline runs.
  db.ch_exec("ALTER TABLE a ADD COLUMN v Nullable(String) AFTER id");
  auto resync = pg2ch_cli(db, config_file, {"resync", "public.a"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  ASSERT_TRUE(wait_until([&] { return state_of("public.a").state == "streaming"; }, 60s));
  db.pg_exec("INSERT INTO a (v) VALUES ('streamed again')");
  EXPECT_TRUE(wait_equal(db, a));
  EXPECT_TRUE(wait_equal(db, b));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
