// A table without a primary key (issue 14 item 6): with REPLICA IDENTITY FULL its [[tables]] entry
// names the columns that identify a row (`key`), which order its target; without one, the error
// says so. Changing the key later re-creates the target and copies the table again, under a
// concurrent writer, and every row ends equal.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/background_writer.h"
#include "support/cli_outcome.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// The target's ORDER BY, without parentheses (ClickHouse versions print a one-column key either way).
std::string sort_key_text(TestDatabase& db) {
  std::string create = db.ch_rows("SHOW CREATE TABLE readings")[0][0];
  std::erase_if(create, [](char c) { return c == '(' || c == ')' || c == '`' || c == '\\'; });
  const auto at = create.find("ORDER BY ");
  return at == std::string::npos ? create : create.substr(at, create.find_first_of("\nS", at + 9) - at);
}

config::Config keyed(const TestDatabase& db, std::vector<std::string> key) {
  auto cfg = make_test_config(db, {"public.readings"});
  cfg.tables[0].key = std::move(key);
  return cfg;
}

TEST(LogicalTableWithoutKey, ReplicaIdentityFullWithAConfiguredKeyStreamsAndTheKeyCanChange) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE readings (sensor int NOT NULL, at int NOT NULL, value double precision, note text)");
  db.pg_exec("ALTER TABLE readings REPLICA IDENTITY FULL");
  db.pg_exec("INSERT INTO readings SELECT g % 10, g, g * 0.5, 'n' FROM generate_series(1, 1000) g");
  const auto rows = same_columns("readings", "sensor, at, value, note", "sensor, at");

  // Without a key: refused, and the error says how to name one.
  const auto refused = run_cli(db, make_test_config(db, {"public.readings"}), "setup");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.stderr_text.find("key = ["), std::string::npos) << refused.stderr_text;

  {
    PipelineRunner runner(keyed(db, {"sensor", "at"}));
    ASSERT_TRUE(wait_equal(db, rows));
    db.pg_exec("UPDATE readings SET value = value + 1, note = 'updated' WHERE at % 3 = 0");
    db.pg_exec("DELETE FROM readings WHERE at % 7 = 0");
    db.pg_exec("UPDATE readings SET at = at + 5000 WHERE at % 11 = 0");  // the key moves
    ASSERT_TRUE(wait_equal(db, rows));
    EXPECT_EQ(sort_key_text(db).rfind("ORDER BY sensor, at", 0), 0u) << sort_key_text(db);
    runner.stop();
  }

  // A key that changes: the target is made again with the new ORDER BY and the table copied,
  // while a writer goes on.
  db.pg_exec("ALTER TABLE readings ADD COLUMN id serial NOT NULL");
  BackgroundWriter writer(db, [](pg::Connection& conn, int i) {
    conn.exec("INSERT INTO readings (sensor, at, value, note) VALUES (" + std::to_string(i % 10) + ", " +
              std::to_string(100000 + i) + ", 1, 'w')");
    conn.exec("UPDATE readings SET note = 'w" + std::to_string(i) + "' WHERE at = " + std::to_string(i * 13 % 1000));
  });
  const auto by_id = same_columns("readings", "id, sensor, at, value, note", "id");
  PipelineRunner runner(keyed(db, {"id"}));
  std::this_thread::sleep_for(1s);
  writer.finish();
  ASSERT_TRUE(wait_equal(db, by_id));
  EXPECT_EQ(sort_key_text(db).rfind("ORDER BY id", 0), 0u) << sort_key_text(db);
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
