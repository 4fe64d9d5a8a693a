// The outbox's initial copy (capture/outbox/outbox_copy.h): rows that existed before `setup` reach
// ClickHouse, while a concurrent writer inserts, updates and deletes from before `run` until after
// the copy; every row ends equal, with both payloads. `pg2ch resync` beside the running pipeline copies a
// damaged target again, under a writer.
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

class OutboxCopy : public ::testing::TestWithParam<std::string> {};

TEST_P(OutboxCopy, RowsThatExistedBeforeSetupArriveUnderAConcurrentWriter) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE items (id int PRIMARY KEY, v text, n int)");
  db.pg_exec("INSERT INTO items SELECT g, 'before setup ' || g, 0 FROM generate_series(1, 20000) g");
  const auto cfg = outbox_config(db, {"public.items"}, GetParam());
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  const auto items = same_columns("items", "id, v, n", "id");

  BackgroundWriter writer(
      db,
      [](pg::Connection& conn, int i) {
        const std::string id = std::to_string((i * 7919) % 20000 + 1);
        conn.exec("UPDATE items SET v = 'u" + std::to_string(i) + "', n = n + 1 WHERE id = " + id);
        if (i % 5 == 0) conn.exec("DELETE FROM items WHERE id = " + std::to_string((i * 104729) % 20000 + 1));
        if (i % 3 == 0) conn.exec("INSERT INTO items VALUES (" + std::to_string(100000 + i) + ", 'new', 0)");
      },
      std::chrono::milliseconds(2));
  std::this_thread::sleep_for(300ms);  // changes queued before the copy's snapshot, too
  PipelineRunner runner(cfg);
  std::this_thread::sleep_for(1s);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, items));
  ASSERT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_EQ(status_table_row(pg2ch_status_json(db, config_file, "status"), "public.items").state, "streaming");

  // A damaged target, and a resync beside the running drainer, under a writer: copied again
  // within seconds, no restart.
  db.ch_exec("INSERT INTO items (id, v, n, _version, _deleted) VALUES (-1, 'never in PostgreSQL', 0, 1, 0)");
  BackgroundWriter after(
      db,
      [](pg::Connection& conn, int i) {
        conn.exec("UPDATE items SET v = 'after the resync " + std::to_string(i) + "' WHERE id = " +
                  std::to_string((i * 31) % 20000 + 1));
        if (i % 4 == 0) conn.exec("INSERT INTO items VALUES (" + std::to_string(200000 + i) + ", 'late', 0)");
      },
      std::chrono::milliseconds(2));
  auto resync = pg2ch_cli(db, config_file, {"resync", "public.items"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  EXPECT_NE(resync.stdout_text().find("within seconds if it runs"), std::string::npos) << resync.describe();
  ASSERT_TRUE(wait_until([&] { return db.ch_rows("SELECT count() FROM items WHERE id = -1") == Rows{{"0"}}; }, 60s))
      << "the running pipeline copied the table again";
  std::this_thread::sleep_for(500ms);
  after.finish();
  EXPECT_TRUE(wait_equal(db, items));
  EXPECT_EQ(status_table_row(pg2ch_status_json(db, config_file, "status"), "public.items").state, "streaming");
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxCopy, ::testing::Values("key", "row"));

}  // namespace
}  // namespace pg2ch::test
