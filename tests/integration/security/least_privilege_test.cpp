// pg2ch runs end to end with exactly the privileges docs/security.md lists, and nothing more:
//   PostgreSQL (the test's own TLS server, scram-sha-256 password from a password_file):
//     logical — LOGIN REPLICATION + SELECT on the table; the publication made by the table owner
//     poll    — LOGIN + SELECT on the table
//     notify, outbox — LOGIN, owner of the table (installs the triggers) + CREATE on the database
//   ClickHouse (18.16 of the test's own, over HTTPS with the test CA; password from a file): a
//   user whose users.xml entry allows one database (allow_databases), created by the admin.
// On the 26.7 engine fixture (no users, no TLS in its test front) the ClickHouse side is the
// shared fixture's default user; the PostgreSQL side is the same.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <fstream>

#include "security/https_clickhouse.h"
#include "security/security_support.h"
#include "security/tls_postgres.h"
#include "support/fixture.h"

namespace pg2ch::test::security {
namespace {

constexpr const char* kTarget = "pg2ch_limited_target";

class SecurityLeastPrivilege : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_server_ = std::make_unique<TlsPostgres>();
    if (!ch_server().engine) ch_server_ = std::make_unique<HttpsClickHouse>(kTarget);
  }
  static void TearDownTestSuite() {
    pg_server_.reset();
    ch_server_.reset();
  }

  void SetUp() override {
    db = std::make_unique<TestDatabase>(make_test_database());
    pg_server_->create_database(db->name());
    if (ch_server_) {
      ch_server_->admin().execute(fmt::format("DROP DATABASE IF EXISTS {}", kTarget));
      ch_server_->admin().execute(fmt::format("CREATE DATABASE {}", kTarget));
    }
    owner().exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
    owner().exec("INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 400) g");
  }

  pg::Connection& owner() {
    if (!owner_) owner_ = std::make_unique<pg::Connection>(pg_server_->superuser(db->name()));
    return *owner_;
  }

  // A role with exactly `attributes` (e.g. "LOGIN REPLICATION") and a fresh password.
  void create_role(const std::string& role, const std::string& attributes) {
    auto conn = pg_server_->superuser();
    conn.exec(fmt::format("DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{0}') THEN "
                          "EXECUTE 'DROP OWNED BY {0} CASCADE'; END IF; END $$",
                          role));
    conn.exec(fmt::format("DROP ROLE IF EXISTS {}", role));
    conn.exec(fmt::format("CREATE ROLE {} {} PASSWORD '{}'", role, attributes, password_of(role)));
  }
  static std::string password_of(const std::string& role) { return role + "-Pw-S3cret"; }

  std::string password_file(const std::string& name, const std::string& password) const {
    const auto path = (db->dir() / name).string();
    std::ofstream(path) << password << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
  }

  config::Config limited_config(const std::string& mode, const std::string& role) const {
    auto cfg = make_test_config(*db, {"public.t"});
    cfg.mode = mode;
    cfg.postgres.host = "localhost";
    cfg.postgres.port = pg_server_->port();
    cfg.postgres.user = role;
    cfg.postgres.password.clear();
    cfg.postgres.password_file = password_file("pg.password", password_of(role));
    cfg.postgres.sslmode = "verify-full";
    cfg.postgres.sslrootcert = pg_server_->certs().ca_crt.string();
    cfg.poll.interval = std::chrono::milliseconds(100);
    cfg.outbox.interval = std::chrono::milliseconds(50);
    if (ch_server_) {
      cfg.clickhouse.host = "localhost";
      cfg.clickhouse.port = ch_server_->https_port();
      cfg.clickhouse.secure = true;
      cfg.clickhouse.ca_file = ch_server_->certs().ca_crt.string();
      cfg.clickhouse.user = HttpsClickHouse::kLimitedUser;
      cfg.clickhouse.password.clear();
      cfg.clickhouse.password_file = password_file("ch.password", HttpsClickHouse::kLimitedPassword);
      cfg.clickhouse.database = kTarget;
    }
    return cfg;
  }

  CliOutcome run(const config::Config& cfg, std::vector<std::string> args, const std::string& tag) {
    return run_pg2ch(*db, write_config_file(cfg, db->dir() / "pg2ch.toml"), std::move(args), tag);
  }

  Rows pg_rows() { return rows_of(owner(), "SELECT id, v FROM t ORDER BY id"); }
  Rows ch_rows() {
    const std::string sql = "SELECT id, v FROM t FINAL WHERE _deleted = 0 ORDER BY id";
    if (!ch_server_) return db->ch_rows(sql);
    auto ch = ch_server_->admin(kTarget);
    return rows_of(ch, sql);
  }

  // setup, run until caught up, `changes` at the source, run again: both sides equal each time.
  void expect_end_to_end(const config::Config& cfg, const std::vector<std::string>& changes) {
    auto setup = run(cfg, {"setup"}, "setup");
    ASSERT_EQ(setup.exit_code, 0) << setup.stderr_text;
    auto first = run(cfg, {"run", "--until-caught-up"}, "run1");
    ASSERT_EQ(first.exit_code, 0) << first.stderr_text;
    EXPECT_TRUE(same_rows(pg_rows(), ch_rows()));
    for (const auto& sql : changes) owner().exec(sql);
    auto second = run(cfg, {"run", "--until-caught-up"}, "run2");
    ASSERT_EQ(second.exit_code, 0) << second.stderr_text;
    EXPECT_TRUE(same_rows(pg_rows(), ch_rows()));
    auto status = run(cfg, {"status", "--json"}, "status");
    EXPECT_EQ(status.exit_code, 0) << status.stdout_text << status.stderr_text;
  }

  static inline std::unique_ptr<TlsPostgres> pg_server_;
  static inline std::unique_ptr<HttpsClickHouse> ch_server_;
  std::unique_ptr<TestDatabase> db;
  std::unique_ptr<pg::Connection> owner_;
};

TEST_F(SecurityLeastPrivilege, LogicalWithReplicationAndSelect) {
  create_role("pg2ch_logical", "LOGIN REPLICATION");
  owner().exec("GRANT SELECT ON t TO pg2ch_logical");
  owner().exec(fmt::format("CREATE PUBLICATION {} FOR TABLE t", db->name()));
  expect_end_to_end(limited_config("logical", "pg2ch_logical"),
                    {"INSERT INTO t SELECT g, 'new ' || g FROM generate_series(401, 500) g",
                     "UPDATE t SET v = 'changed' WHERE id % 7 = 0", "DELETE FROM t WHERE id % 13 = 0"});
}

TEST_F(SecurityLeastPrivilege, PollWithSelectOnly) {
  create_role("pg2ch_poll", "LOGIN");
  owner().exec("GRANT SELECT ON t TO pg2ch_poll");
  expect_end_to_end(limited_config("poll", "pg2ch_poll"),
                    {"INSERT INTO t SELECT g, 'new ' || g FROM generate_series(401, 500) g"});
}

TEST_F(SecurityLeastPrivilege, OutboxAsTheTableOwner) {
  create_role("pg2ch_outbox", "LOGIN");
  owner().exec("ALTER TABLE t OWNER TO pg2ch_outbox");
  owner().exec(fmt::format("GRANT CREATE ON DATABASE {} TO pg2ch_outbox", db->name()));
  expect_end_to_end(limited_config("outbox", "pg2ch_outbox"),
                    {"INSERT INTO t SELECT g, 'new ' || g FROM generate_series(401, 500) g",
                     "UPDATE t SET v = 'changed' WHERE id % 7 = 0", "DELETE FROM t WHERE id % 13 = 0"});
}

TEST_F(SecurityLeastPrivilege, NotifyAsTheTableOwner) {
  create_role("pg2ch_notify", "LOGIN");
  owner().exec("ALTER TABLE t OWNER TO pg2ch_notify");
  owner().exec(fmt::format("GRANT CREATE ON DATABASE {} TO pg2ch_notify", db->name()));
  expect_end_to_end(limited_config("notify", "pg2ch_notify"),
                    {"INSERT INTO t SELECT g, 'new ' || g FROM generate_series(401, 500) g"});
}

TEST_F(SecurityLeastPrivilege, TheClickHouseUserReachesItsDatabaseOnly) {
  if (!ch_server_) GTEST_SKIP() << "the 26.7 engine fixture has no users to limit";
  clickhouse::Endpoint e;
  e.host = "localhost";
  e.port = ch_server_->https_port();
  e.secure = true;
  e.ca_file = ch_server_->certs().ca_crt.string();
  e.user = HttpsClickHouse::kLimitedUser;
  e.password = HttpsClickHouse::kLimitedPassword;
  e.database = kTarget;
  clickhouse::HttpClient limited(e);
  EXPECT_NO_THROW(limited.execute("CREATE TABLE probe (x UInt8) ENGINE = Memory"));
  try {
    limited.execute("CREATE TABLE default.probe (x UInt8) ENGINE = Memory");
    FAIL() << "the limited user created a table outside its database";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permission) << e.one_line();
    EXPECT_EQ(e.one_line().find(HttpsClickHouse::kLimitedPassword), std::string::npos) << e.one_line();
  }
}

}  // namespace
}  // namespace pg2ch::test::security
