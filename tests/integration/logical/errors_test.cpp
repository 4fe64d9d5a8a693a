// Operator errors: each ends pg2ch with its class's exit code (service/exit_codes.h) and one line
// naming the object and the fix, never with a secret in it, and without touching the source's
// replication state.
#include <gtest/gtest.h>

#include "support/cli_outcome.h"
#include "support/command.h"
#include "support/servers.h"

namespace pg2ch::test {
namespace {

TEST(LogicalErrors, UnreachablePostgres) {
  auto db = make_test_database();
  auto cfg = make_test_config(db);
  cfg.postgres.port = 1;
  cfg.postgres.connect_timeout_s = 3;
  expect_one_line_error(run_setup(db, cfg), {"PostgreSQL", "127.0.0.1:1", "hint"}, 1);
}

TEST(LogicalErrors, UnreachableClickHouse) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto cfg = make_test_config(db);
  cfg.clickhouse.port = 1;
  expect_one_line_error(run_setup(db, cfg), {"ClickHouse", "CH_HOST"}, 1);
}

TEST(LogicalErrors, WrongPasswordIsNamedButNeverPrinted) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto cfg = make_test_config(db);
  cfg.postgres.user = pg_server().limited_user;
  cfg.postgres.password = "Wr0ngSecret!";
  const auto o = run_setup(db, cfg);
  expect_one_line_error(o, {"password", "PG_PASSWORD"}, 4);
  EXPECT_EQ(o.stderr_text.find("Wr0ngSecret!"), std::string::npos) << "secret leaked: " << o.stderr_text;

  auto ch_cfg = make_test_config(db);
  ch_cfg.clickhouse.user = ch_server().password_user;
  ch_cfg.clickhouse.password = "An0therSecret";
  const auto ch = run_setup(db, ch_cfg);
  expect_one_line_error(ch, {"ClickHouse"}, 4);
  EXPECT_EQ(ch.stderr_text.find("An0therSecret"), std::string::npos) << "secret leaked: " << ch.stderr_text;
}

TEST(LogicalErrors, MissingTable) {
  auto db = make_test_database();
  auto cfg = make_test_config(db, {"public.no_such_table"});
  expect_one_line_error(run_setup(db, cfg), {"public.no_such_table", "does not exist", "[[tables]]"}, 5);
}

TEST(LogicalErrors, TableWithoutPrimaryKey) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE heap_only (a int, b text)");
  auto cfg = make_test_config(db, {"public.heap_only"});
  expect_one_line_error(run_setup(db, cfg), {"public.heap_only", "no primary key", "ADD PRIMARY KEY", "REPLICA IDENTITY"}, 5);
}

TEST(LogicalErrors, MissingSelectPrivilege) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE guarded (id int PRIMARY KEY)");
  auto cfg = make_test_config(db, {"public.guarded"});
  cfg.postgres.user = pg_server().limited_user;
  cfg.postgres.password = pg_server().limited_password;
  expect_one_line_error(run_setup(db, cfg), {"cannot SELECT", "public.guarded", "GRANT SELECT"}, 4);
}

TEST(LogicalErrors, MissingReplicationPrivilege) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY)");
  db.pg_exec("DROP ROLE IF EXISTS no_repl_" + db.name().substr(0, 20));
  const std::string role = "no_repl_" + db.name().substr(0, 20);
  db.pg_exec("CREATE ROLE " + role + " LOGIN PASSWORD 'pw' NOREPLICATION");
  db.pg_exec("GRANT SELECT ON t TO " + role);
  auto cfg = make_test_config(db, {"public.t"});
  cfg.postgres.user = role;
  cfg.postgres.password = "pw";
  const auto o = run_setup(db, cfg);
  db.pg_exec("DROP OWNED BY " + role);
  db.pg_exec("DROP ROLE " + role);
  expect_one_line_error(o, {"may not start replication", "REPLICATION"}, 4);
}

TEST(LogicalErrors, UnsupportedColumnTypeNamesTheColumn) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE shapes (id int PRIMARY KEY, box_col box)");
  auto cfg = make_test_config(db, {"public.shapes"});
  expect_one_line_error(run_setup(db, cfg), {"public.shapes", "box_col", "exclude"}, 5);
}

}  // namespace
}  // namespace pg2ch::test

namespace pg2ch::test {
namespace {

// Needs its own server: the shared one runs with wal_level=logical for every other test.
TEST(LogicalErrors, WalLevelNotLogical) {
  auto db = make_test_database();
  const std::string script = std::string(PG2CH_SOURCE_DIR) + "/scripts/pg-local.sh";
  const std::string dir = (db.dir() / "replica-pg").string();
  ASSERT_EQ(run_command({"/bin/bash", script, "start", dir}).exit_code, 0);
  struct Stop {
    std::string script, dir;
    ~Stop() { run_command({"/bin/bash", script, "stop", dir}); }
  } stop{script, dir};
  const int port = std::stoi(run_command({"/bin/cat", dir + "/port"}).output);
  auto cfg = make_test_config(db, {"public.t"});
  cfg.postgres.port = port;
  cfg.postgres.database = "postgres";
  {
    auto conn = pg::Connection::connect(cfg.postgres.conninfo(), "replica-level test server");
    conn.exec("CREATE TABLE t (id int PRIMARY KEY)");
    conn.exec("ALTER SYSTEM SET wal_level = replica");
  }
  ASSERT_EQ(run_command({"/bin/bash", script, "stop", dir}).exit_code, 0);
  ASSERT_EQ(run_command({"/bin/bash", script, "start", dir, std::to_string(port)}).exit_code, 0);
  expect_one_line_error(run_setup(db, cfg), {"wal_level = replica", "wal_level = logical", "restart"}, 2);
}

}  // namespace
}  // namespace pg2ch::test
