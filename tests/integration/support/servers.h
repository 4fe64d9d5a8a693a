#pragma once
// The PostgreSQL and ClickHouse servers shared by every integration test of one run.
//
// By default ServerEnvironment starts both with scripts/pg-local.sh and scripts/ch-local.sh in a
// temp directory on free ports. To use servers that already run instead, set
// PG2CH_TEST_PG_PORT (and optionally PG2CH_TEST_PG_HOST / _USER / _PASSWORD) and/or
// PG2CH_TEST_CH_PORT (and optionally PG2CH_TEST_CH_HOST / _USER / _PASSWORD); those are never
// stopped. PG2CH_TEST_CLICKHOUSE=engine starts the ClickHouse 26.7 engine fixture
// (scripts/chdb-local.sh) instead of a 18.16 server (scripts/ch-local.sh). PG2CH_TEST_KEEP=1 keeps the run directory (logs, data) even after a successful run.
#include <filesystem>
#include <string>

namespace pg2ch::test {

struct PgServer {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string user = "postgres";  // superuser
  std::string password = "postgres";
  // LOGIN REPLICATION, not superuser, password enforced (scram-sha-256); created by pg-local.sh
  // for auth-failure and missing-privilege tests. May not exist on external servers.
  std::string limited_user = "pg2ch_test";
  std::string limited_password = "pg2ch_test";
  bool external = false;  // started by someone else: not ours to stop
};

struct ChServer {
  std::string host = "127.0.0.1";
  int port = 0;  // HTTP interface
  std::string user = "default";
  std::string password;
  // A user that needs a password, created by ch-local.sh for auth tests. May not exist on
  // external servers.
  std::string password_user = "pg2ch";
  std::string password_user_password = "pg2ch_secret";
  bool external = false;
  // PG2CH_TEST_CLICKHOUSE=engine: ClickHouse 26.7's engine (chDB) behind the test-only HTTP front
  // (tests/fixtures/chdb_http_front, scripts/chdb-local.sh) instead of Debian's 18.16 server.
  bool engine = false;
  std::string version;  // SELECT version(), read at start
};

// Valid inside tests (between ServerEnvironment::SetUp and TearDown).
const PgServer& pg_server();
const ChServer& ch_server();
// For a test that cannot run on the chDB engine: GTEST_SKIP() << reason when it is the target.
#define PG2CH_SKIP_ON_CLICKHOUSE_ENGINE(reason) \
  if (::pg2ch::test::ch_server().engine) GTEST_SKIP() << "not on the ClickHouse 26.7 engine fixture: " << reason
// For fault-injection tests: the run's own servers stopped and started again on the same port
// (data kept). Throw std::runtime_error when the server was not started by this run (external),
// or, for ClickHouse, is the chDB engine fixture (its front cannot be started on a given port).
bool servers_restartable();
void stop_postgres(bool immediate);  // fast shutdown, or immediate (crash recovery at the next start)
void start_postgres();
void stop_clickhouse();
void start_clickhouse();
// Every ClickHouse user readonly (a real `readonly = 1` profile, applied by the server's config
// reload) or writable again; returns once the server applies it.
void set_clickhouse_readonly(bool on);
// This run's scratch directory: server data (when started here) and per-test directories.
const std::filesystem::path& run_dir();

}  // namespace pg2ch::test
