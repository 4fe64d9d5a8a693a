#include "support/test_environment.h"

#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <optional>

#include "clickhouse/http_client.h"
#include "pg/connection.h"
#include "support/exit_guardian.h"
#include "support/local_server.h"
#include "support/servers.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

struct Run {
  std::filesystem::path dir;
  PgServer pg;
  ChServer ch;
  std::optional<LocalServer> local_pg;
  std::optional<LocalServer> local_ch;
  ExitGuardian guardian;
};

std::unique_ptr<Run> g_run;

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::optional<std::string>(v) : std::nullopt;
}

std::filesystem::path make_run_dir() {
  std::string pattern = env("TMPDIR").value_or("/tmp") + "/pg2ch-it-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a directory like " + pattern);
  // The servers' own users (postgres) must reach their directories inside.
  std::filesystem::permissions(pattern, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                            std::filesystem::perms::others_exec);
  return pattern;
}

// External servers are described by PG2CH_TEST_* variables; missing ones keep the defaults.
void read_external(PgServer& pg, ChServer& ch) {
  ch.engine = env("PG2CH_TEST_CLICKHOUSE").value_or("server") == "engine";
  if (auto port = env("PG2CH_TEST_PG_PORT")) {
    pg.external = true;
    pg.port = std::stoi(*port);
    pg.host = env("PG2CH_TEST_PG_HOST").value_or(pg.host);
    pg.user = env("PG2CH_TEST_PG_USER").value_or(pg.user);
    pg.password = env("PG2CH_TEST_PG_PASSWORD").value_or(pg.password);
  }
  if (auto port = env("PG2CH_TEST_CH_PORT")) {
    ch.external = true;
    ch.port = std::stoi(*port);
    ch.host = env("PG2CH_TEST_CH_HOST").value_or(ch.host);
    ch.user = env("PG2CH_TEST_CH_USER").value_or(ch.user);
    ch.password = env("PG2CH_TEST_CH_PASSWORD").value_or(ch.password);
  }
}

void start_local(Run& run) {
  std::vector<std::vector<std::string>> stops;
  if (!run.pg.external) run.local_pg.emplace("pg-local.sh", run.dir / "postgres");
  if (!run.ch.external) {
    if (run.ch.engine) {
#ifdef PG2CH_CHDB_FRONT
      ::setenv("CHDB_FRONT", PG2CH_CHDB_FRONT, 1);
#else
      throw std::runtime_error("PG2CH_TEST_CLICKHOUSE=engine, but this build has no chdb_http_front (libchdb.so "
                               "was not found at configure time: run scripts/install-deps.sh and cmake again)");
#endif
    }
    run.local_ch.emplace(run.ch.engine ? "chdb-local.sh" : "ch-local.sh", run.dir / "clickhouse");
  }
  for (auto* server : {&run.local_pg, &run.local_ch})
    if (*server) stops.push_back((*server)->stop_command());
  if (stops.empty()) return;
  // Armed before starting, so a crash half-way through start-up still stops what came up.
  run.guardian = ExitGuardian(stops, run.dir / "exit-guardian.log");

  // Both start at once: start-up is most of the fixture's fixed cost.
  std::future<std::map<std::string, std::string>> pg_vars, ch_vars;
  if (run.local_pg) pg_vars = std::async(std::launch::async, [&] { return run.local_pg->start(); });
  if (run.local_ch) ch_vars = std::async(std::launch::async, [&] { return run.local_ch->start(); });
  if (run.local_pg) run.pg.port = std::stoi(pg_vars.get().at("PG_PORT"));
  if (run.local_ch) run.ch.port = std::stoi(ch_vars.get().at("CH_PORT"));
}

// Proves both servers answer with the credentials the tests will use.
void check_reachable(Run& run) {
  pg::Connection::connect(postgres_config("postgres").conninfo(), "test PostgreSQL").exec("SELECT 1");
  run.ch.version = clickhouse::HttpClient(clickhouse_endpoint("default")).capabilities().version.text;
  std::cerr << "[ servers  ] PostgreSQL " << run.pg.host << ":" << run.pg.port << ", ClickHouse " << run.ch.version
            << (run.ch.engine ? " engine (chDB test fixture) " : " ") << run.ch.host << ":" << run.ch.port
            << " (run dir " << run.dir.string() << ")\n";
}

}  // namespace

const PgServer& pg_server() { return g_run->pg; }
const ChServer& ch_server() { return g_run->ch; }
const std::filesystem::path& run_dir() { return g_run->dir; }

bool servers_restartable() { return g_run->local_pg && g_run->local_ch && !g_run->ch.engine; }

namespace {
LocalServer& restartable(std::optional<LocalServer>& server, const char* what) {
  if (!servers_restartable()) throw std::runtime_error(std::string("cannot restart the test ") + what +
                                                       ": external servers or the ClickHouse engine fixture");
  return *server;
}
void check_stopped(const std::string& failure, const char* what) {
  if (!failure.empty()) throw std::runtime_error(std::string("stopping the test ") + what + " failed:\n" + failure);
}
}  // namespace

void stop_postgres(bool immediate) {
  auto& pg = restartable(g_run->local_pg, "PostgreSQL");
  check_stopped(pg.stop(immediate ? std::vector<std::string>{"--immediate"} : std::vector<std::string>{}), "PostgreSQL");
}
void start_postgres() { restartable(g_run->local_pg, "PostgreSQL").start({std::to_string(g_run->pg.port)}); }
void stop_clickhouse() { check_stopped(restartable(g_run->local_ch, "ClickHouse").stop(), "ClickHouse"); }
void start_clickhouse() { restartable(g_run->local_ch, "ClickHouse").start({std::to_string(g_run->ch.port)}); }
void set_clickhouse_readonly(bool on) { restartable(g_run->local_ch, "ClickHouse").run("readonly", {on ? "on" : "off"}); }

void ServerEnvironment::SetUp() {
  g_run = std::make_unique<Run>();
  try {
    g_run->dir = make_run_dir();
    read_external(g_run->pg, g_run->ch);
    start_local(*g_run);
    check_reachable(*g_run);
  } catch (const std::exception& e) {
    GTEST_FAIL() << "test servers are not available: " << e.what();
  }
}

void ServerEnvironment::TearDown() {
  if (!g_run) return;
  for (auto* server : {&g_run->local_pg, &g_run->local_ch})
    if (*server)
      if (auto failure = (*server)->stop(); !failure.empty()) std::cerr << "stopping a test server failed:\n" << failure;
  g_run->guardian = ExitGuardian();
  bool passed = ::testing::UnitTest::GetInstance()->Passed();
  if (passed && !env("PG2CH_TEST_KEEP")) {
    std::error_code ec;
    std::filesystem::remove_all(g_run->dir, ec);
  } else {
    std::cerr << "[ servers  ] kept " << g_run->dir.string() << " (server logs, per-test files)\n";
  }
  g_run.reset();
}

}  // namespace pg2ch::test
