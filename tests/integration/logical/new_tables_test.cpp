// Tables that come and go under `schema.*` while the pipeline runs (capture/logical/
// table_discovery.h): a new table is copied and then streamed while the others stream on under a
// concurrent writer, and ends equal row by row; one without a primary key is reported and left
// out; a dropped table is reported as dropped with its target left in place.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "state/open_state_store.h"
#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(LogicalNewTables, ATableCreatedUnderASchemaWildcardIsCopiedAndStreamedWhileTheOthersStream) {
  auto db = make_test_database();
  db.pg_exec("CREATE SCHEMA shop");
  db.pg_exec("CREATE TABLE shop.orders (id serial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO shop.orders (v) SELECT 'o' || g FROM generate_series(1, 100) g");
  auto cfg = make_test_config(db, {"shop.*"});
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  const TableQuery orders{"SELECT id, v FROM shop.orders ORDER BY id",
                          "SELECT id, v FROM orders FINAL WHERE _deleted = 0 ORDER BY id"};
  const TableQuery items{"SELECT id, qty, note FROM shop.items ORDER BY id",
                         "SELECT id, qty, note FROM items FINAL WHERE _deleted = 0 ORDER BY id"};
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table).state;
  };

  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, orders));
  std::atomic<bool> items_exist{false};
  BackgroundWriter writer(db, [&](pg::Connection& conn, int i) {
    conn.exec("INSERT INTO shop.orders (v) VALUES ('w" + std::to_string(i) + "')");
    if (!items_exist) return;
    conn.exec("INSERT INTO shop.items (qty, note) VALUES (" + std::to_string(i) + ", 'n')");
    conn.exec("UPDATE shop.items SET qty = qty + 1 WHERE id = (SELECT max(id) FROM shop.items) - 2");
    if (i % 4 == 0) conn.exec("DELETE FROM shop.items WHERE id = (SELECT min(id) FROM shop.items)");
  });
  db.pg_exec("CREATE TABLE shop.items (id serial PRIMARY KEY, qty int, note text)");
  db.pg_exec("INSERT INTO shop.items (qty, note) SELECT g, 'before' FROM generate_series(1, 5000) g");
  items_exist = true;
  db.pg_exec("CREATE TABLE shop.no_key (a int)");  // reported and left out; the pipeline goes on
  ASSERT_TRUE(wait_until([&] { return state_of("shop.items") == "streaming"; }, 60s));
  std::this_thread::sleep_for(500ms);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, items));
  EXPECT_TRUE(wait_equal(db, orders));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  // The keyless table: left out, and said so in status (and never published).
  const auto notes = pg2ch_status_json(db, config_file, "status-notes", true)["notes"].GetArray();
  EXPECT_TRUE(std::any_of(notes.begin(), notes.end(), [](const auto& n) {
    return std::string(n.GetString()).find("shop.no_key") != std::string::npos;
  }));
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg_publication_tables WHERE tablename = 'no_key'"), (Rows{{"0"}}));
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg_publication_tables WHERE pubname = '" + cfg.logical.publication +
                       "' AND tablename = 'items'"),
            (Rows{{"1"}}));

  // Dropped at the source: reported, its target left in place, the other table streams on.
  db.pg_exec("DROP TABLE shop.items");
  db.pg_exec("INSERT INTO shop.orders (v) VALUES ('after the drop')");
  // `status` lists the tables that exist; the state store keeps the dropped one's reason.
  const auto recorded = [&](const char* field) {
    return state::open_state_store(cfg)->get(std::string("table \"shop\".\"items\" ") + field).value_or("");
  };
  ASSERT_TRUE(wait_until([&] { return recorded("phase") == "stopped"; }, 60s));
  EXPECT_NE(recorded("reason").find("dropped at the source"), std::string::npos) << recorded("reason");
  EXPECT_EQ(state_of("shop.items"), "(not listed)");
  EXPECT_NE(db.ch_rows("SELECT count() FROM items"), (Rows{{"0"}})) << "its target is left in place";
  EXPECT_TRUE(wait_equal(db, orders));
  EXPECT_FALSE(runner.failed()) << runner.describe();

  // Created again under the same name (a new oid, the same target and state keys): the new one
  // is copied into the emptied target and streams; nothing of the old one stays.
  db.pg_exec("CREATE TABLE shop.items (id serial PRIMARY KEY, qty int, note text)");
  db.pg_exec("INSERT INTO shop.items (qty, note) SELECT g, 'again' FROM generate_series(1, 300) g");
  ASSERT_TRUE(wait_until([&] { return state_of("shop.items") == "streaming"; }, 60s));
  db.pg_exec("UPDATE shop.items SET note = 'changed' WHERE id % 3 = 0");
  EXPECT_TRUE(wait_equal(db, items));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
