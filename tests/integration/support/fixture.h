#pragma once
// Everything an integration test needs. The binary's main() (support/main.cpp) starts one
// PostgreSQL 15 and one ClickHouse for the whole run; each test then typically does:
//
//   auto db = pg2ch::test::make_test_database();           // fresh "<suite>_<test>" on both servers
//   db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
//   auto cfg = pg2ch::test::make_test_config(db, {"public.t"});
//   auto file = pg2ch::test::write_config_file(cfg, db.dir() / "pg2ch.toml");
//   auto proc = pg2ch::test::ChildProcess::spawn_pg2ch({.args = {"--config", file.string(), "run"}});
//   ASSERT_TRUE(pg2ch::test::wait_until([&] { return db.ch_rows("SELECT count() FROM t")[0][0] == "1"; }, 30s))
//       << proc.describe();
//
// Servers: pg_server() / ch_server() (ports, credentials, the password-protected extra users).
#include "support/child_process.h"
#include "support/servers.h"
#include "support/test_config.h"
#include "support/test_database.h"
#include "support/wait.h"
