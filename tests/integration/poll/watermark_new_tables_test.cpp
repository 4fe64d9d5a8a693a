// mode = "poll" and "notify" with `schema.*`: a table created in that schema while the pipeline
// runs is found (capture/shared/new_tables.h), read from its first row (its copy; notify installs
// its trigger first) and then streamed, while the other table streams on under a concurrent
// writer; both end equal row by row, every column.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "support/background_writer.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

void create_app_table(TestDatabase& db, const std::string& name) {
  db.pg_exec("CREATE TABLE app." + name +
             " (id bigserial PRIMARY KEY, v text, n int, updated_at timestamptz NOT NULL DEFAULT now())");
  db.pg_exec("CREATE TRIGGER " + name + "_touch BEFORE UPDATE ON app." + name +
             " FOR EACH ROW EXECUTE FUNCTION touch_updated_at()");
}

class WatermarkNewTables : public ::testing::TestWithParam<std::string> {};

TEST_P(WatermarkNewTables, ATableCreatedUnderASchemaWildcardIsReadAndStreamedWhileTheOtherStreams) {
  auto db = make_test_database();
  db.pg_exec("CREATE SCHEMA app");
  db.pg_exec("CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS "
             "$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$");
  create_app_table(db, "orders");
  db.pg_exec("INSERT INTO app.orders (v, n) SELECT 'o' || g, g FROM generate_series(1, 300) g");
  auto cfg = watermark_config(db, GetParam(), "orders", "updated_at");
  cfg.tables = make_test_config(db, {"app.*"}).tables;
  // notify: only notifications (and the new table's first read) bring rows, not the fallback poll.
  if (GetParam() == "notify") cfg.poll.interval = 600s;
  capture::capture_mode(GetParam()).setup(cfg);  // notify: the trigger on app.orders
  // Every column; updated_at as microseconds (Int64 on 18.16, DateTime64 on the engine).
  const std::string ch_us =
      db.ch().capabilities().datetime64 ? "toUnixTimestamp64Micro(updated_at)" : "updated_at";
  const auto query = [&](const std::string& t) {
    return TableQuery{"SELECT id, v, n, (extract(epoch from updated_at) * 1000000)::bigint FROM app." + t +
                          " ORDER BY id",
                      "SELECT id, v, n, " + ch_us + " FROM " + t + " FINAL WHERE _deleted = 0 ORDER BY id"};
  };
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, query("orders")));

  std::atomic<bool> items_exist{false};
  BackgroundWriter writer(db, [&](pg::Connection& c, int i) {
    const std::string n = std::to_string(i);
    c.exec("INSERT INTO app.orders (v, n) VALUES ('w" + n + "', " + n + ")");
    c.exec("UPDATE app.orders SET n = n + 1 WHERE id = " + std::to_string(1 + (i * 7) % 300));
    if (!items_exist) return;
    c.exec("INSERT INTO app.items (v, n) VALUES ('w" + n + "', " + n + ")");
    c.exec("UPDATE app.items SET n = n + 1, v = 'u' WHERE id = " + std::to_string(1 + (i * 13) % 3000));
  }, 5ms);
  std::this_thread::sleep_for(300ms);
  create_app_table(db, "items");
  db.pg_exec("INSERT INTO app.items (v, n) SELECT 'before' || g, g FROM generate_series(1, 3000) g");
  items_exist = true;
  // Found within seconds and read while the writer goes on.
  std::this_thread::sleep_for(8s);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, query("items")));
  EXPECT_TRUE(wait_equal(db, query("orders")));
  if (GetParam() == "notify") {
    EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'app.items'::regclass AND "
                         "tgname LIKE 'pg2ch%'"),
              (Rows{{"1"}}))
        << "its notify trigger was installed";
    // Rows written now reach the target by notification alone (the fallback poll is 10 minutes).
    db.pg_exec("UPDATE app.items SET v = 'after' WHERE id <= 10");
    EXPECT_TRUE(wait_equal(db, query("items"), 30s));
  }
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Modes, WatermarkNewTables, ::testing::Values("poll", "notify"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
