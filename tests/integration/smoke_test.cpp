// Proves the integration fixture: servers up, a fresh database on both sides, SQL round trips,
// and the child-process helper.
#include <gtest/gtest.h>

#include "support/fixture.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(Smoke, DatabaseOnBothServersWithRoundTrips) {
  auto db = make_test_database();
  EXPECT_EQ(db.name(), "smoke_databaseonbothserverswithroundtrips");

  db.pg_exec("CREATE TABLE items (id int PRIMARY KEY, name text, note text)");
  db.pg_exec("INSERT INTO items VALUES (1, 'one', NULL), (2, 'tab\there', 'x')");
  EXPECT_EQ(db.pg_rows("SELECT id, name, note FROM items ORDER BY id"),
            (Rows{{"1", "one", kNull}, {"2", "tab\there", "x"}}));
  EXPECT_EQ(db.pg_rows("SELECT current_database()"), (Rows{{db.name()}}));

  db.ch_exec("CREATE TABLE items (id Int32, name String, note Nullable(String)) ENGINE = MergeTree ORDER BY id");
  db.ch_exec("INSERT INTO items VALUES (1, 'one', NULL), (2, 'tab\\there', 'x')");
  EXPECT_EQ(db.ch_rows("SELECT id, name, note FROM items ORDER BY id"),
            (Rows{{"1", "one", kNull}, {"2", "tab\there", "x"}}));
  EXPECT_EQ(db.ch_rows("SELECT currentDatabase()"), (Rows{{db.name()}}));
}

TEST(Smoke, DatabaseIsFreshEachTime) {
  auto first = make_test_database("again");
  first.pg_exec("CREATE TABLE leftover (id int)");
  first.ch_exec("CREATE TABLE leftover (id Int32) ENGINE = Memory");
  auto second = make_test_database("again");
  EXPECT_EQ(second.pg_rows("SELECT count(*) FROM pg_tables WHERE tablename = 'leftover'"), (Rows{{"0"}}));
  EXPECT_EQ(second.ch_rows("EXISTS TABLE leftover"), (Rows{{"0"}}));
}

TEST(Smoke, WaitUntilPollsAndTimesOut) {
  int calls = 0;
  EXPECT_TRUE(wait_until([&] { return ++calls == 3; }, 5s, 1ms));
  EXPECT_FALSE(wait_until([] { return false; }, 50ms, 10ms));
}

TEST(Smoke, Pg2chBinaryRunsWithTestConfig) {
  auto db = make_test_database();
  auto config = write_config_file(make_test_config(db, {"public.items"}), db.dir() / "pg2ch.toml");
  auto version = ChildProcess::spawn_pg2ch({.args = {"--version"}, .dir = db.dir()});
  ASSERT_EQ(version.wait(30s), 0) << version.describe();
  EXPECT_NE(version.stdout_text().find("pg2ch"), std::string::npos);

  // A config error is exit code 2 and names the setting: proves args, env and stderr capture.
  // The developer's shell may export PG_PORT for another server; pg2ch children must not see it.
  ::setenv("PG_PORT", "not-a-port", 1);
  auto bad = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "status"}, .env = {{"PG2CH_BATCH_MAX_ROWS", "0"}}, .dir = db.dir()});
  ::unsetenv("PG_PORT");
  ASSERT_EQ(bad.wait(30s), 2) << bad.describe();
  EXPECT_NE(bad.stderr_text().find("batch.max_rows"), std::string::npos) << bad.describe();
}

TEST(Smoke, ChildProcessEnvironmentOutputAndSignals) {
  auto echo = ChildProcess::spawn("/bin/sh", {.args = {"-c", "echo \"$GREETING\"; echo oops >&2; exit 3"},
                                              .env = {{"GREETING", "hello"}}});
  EXPECT_EQ(echo.wait(10s), 3);
  EXPECT_EQ(echo.stdout_text(), "hello\n");
  EXPECT_EQ(echo.stderr_text(), "oops\n");

  auto sleeper = ChildProcess::spawn("/bin/sleep", {.args = {"60"}});
  EXPECT_TRUE(sleeper.running());
  EXPECT_EQ(sleeper.stop(SIGTERM, 10s), 128 + SIGTERM);
  EXPECT_FALSE(sleeper.running());

  EXPECT_THROW(ChildProcess::spawn("/nonexistent/program", {}), std::runtime_error);
}

}  // namespace
}  // namespace pg2ch::test
