// Per-table states in mode = "outbox": an event whose value the target cannot hold stops that
// table only, while another table keeps streaming under a concurrent writer; the stopped table's
// events stay queued and `status` shows the key and the fix. The fix it names brings the table
// back at the next start (payload key: the value corrected at the source is read again; payload
// row: the corrected row's own event, the refused one deleted as the fix says), and a TRUNCATE of
// a stopped table lets it stream again while running. Each phase ends equal row by row.
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

class OutboxTableStates : public ::testing::TestWithParam<std::string> {};

std::string state_of(TestDatabase& db, const std::filesystem::path& config, const std::string& table) {
  return status_table_row(pg2ch_status_json(db, config, "status", /*attention_ok=*/true), table).state;
}

TEST_P(OutboxTableStates, ABadValueStopsOnlyItsTableAndItsQueuedEventsBringItBack) {
  const std::string payload = GetParam();
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE prices (id int PRIMARY KEY, price numeric(10,2))");
  db.pg_exec("CREATE TABLE other (id serial PRIMARY KEY, v text)");
  const auto cfg = outbox_config(db, {"public.prices", "public.other"}, payload);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO prices SELECT g, g FROM generate_series(1, 20) g");
  db.pg_exec("INSERT INTO other (v) SELECT 'a' || g FROM generate_series(1, 20) g");
  const auto prices = same_columns("prices", "id, price", "id");
  const auto other = same_columns("other", "id, v", "id");

  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, prices));
    BackgroundWriter writer(
        db,
        [](pg::Connection& conn, int i) {
          conn.exec("INSERT INTO other (v) VALUES ('w" + std::to_string(i) + "')");
          conn.exec("UPDATE other SET v = v || '+' WHERE id = (SELECT max(id) FROM other) - 3");
        },
        std::chrono::milliseconds(5));
    db.pg_exec("BEGIN; INSERT INTO prices VALUES (21, 21), (22, 'NaN'), (23, 23); UPDATE prices SET price = 100 "
               "WHERE id = 1; COMMIT");
    const bool stopped = wait_until([&] { return state_of(db, config_file, "public.prices") == "stopped"; }, 60s);
    std::this_thread::sleep_for(300ms);
    writer.finish();
    ASSERT_TRUE(stopped);
    ASSERT_TRUE(wait_equal(db, other)) << "the other table streams on";
    EXPECT_FALSE(runner.failed()) << runner.describe();

    const auto status = pg2ch_status_json(db, config_file, "status-stopped", true);
    const auto row = status_table_row(status, "public.prices");
    for (const char* needle : {"public.prices", "price", "id=22"}) {
      EXPECT_NE(row.last_error.find(needle), std::string::npos) << "missing '" << needle << "' in " << row.last_error;
    }
    EXPECT_EQ(status_table_row(status, "public.other").state, "streaming");
    ASSERT_EQ(status["attention"].Size(), 1u);
    const std::string attention = status["attention"][0].GetString();
    EXPECT_NE(attention.find(R"(types = { "price" = "String" })"), std::string::npos) << attention;
    // Its events from the refused one on wait in the queue; none of them reached ClickHouse.
    EXPECT_EQ(db.pg_rows("SELECT count(*) >= 3 FROM pg2ch.events WHERE rel = 'prices'::regclass"), (Rows{{"t"}}));
    EXPECT_EQ(db.ch_rows("SELECT count() FROM prices FINAL WHERE id >= 22"), (Rows{{"0"}}));

    // The value corrected at the source. A row payload's event holds the refused value: the fix
    // says which event to delete once its row was corrected (the correction has its own event).
    db.pg_exec("UPDATE prices SET price = 22 WHERE id = 22");
    if (payload == "row") {
      const auto from = attention.find("DELETE FROM");
      ASSERT_NE(from, std::string::npos) << attention;
      const auto to = attention.find("')", from);
      ASSERT_NE(to, std::string::npos) << attention;
      db.pg_exec(attention.substr(from, to + 1 - from));
    }
    runner.stop();
  }

  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, prices));
  ASSERT_TRUE(wait_until([&] { return state_of(db, config_file, "public.prices") == "streaming"; }, 60s));

  // Stopped again; a TRUNCATE supersedes its queued events, so it streams again while running.
  db.pg_exec("INSERT INTO prices VALUES (30, 'NaN')");
  ASSERT_TRUE(wait_until([&] { return state_of(db, config_file, "public.prices") == "stopped"; }, 60s));
  db.pg_exec("TRUNCATE prices");
  db.pg_exec("INSERT INTO prices VALUES (31, 31), (32, 32)");
  ASSERT_TRUE(wait_equal(db, prices));
  EXPECT_EQ(state_of(db, config_file, "public.prices"), "streaming");
  ASSERT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxTableStates, ::testing::Values("key", "row"));

}  // namespace
}  // namespace pg2ch::test
