// TLS to PostgreSQL against a server of the test's own (security/tls_postgres.h) that accepts TCP
// only over TLS: sslmode verify-full with the test CA and a client certificate (pg_hba `cert`),
// the host name check, a CA that did not sign the server, and a client without TLS.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "security/security_support.h"
#include "security/tls_postgres.h"
#include "support/fixture.h"

namespace pg2ch::test::security {
namespace {

class SecurityPostgresTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server = std::make_unique<TlsPostgres>(); }
  static void TearDownTestSuite() { server.reset(); }

  // A database on the TLS server named like the test's ClickHouse database, with table t, the
  // certificate role allowed to read it and a publication made by the owner.
  void SetUp() override {
    db = std::make_unique<TestDatabase>(make_test_database());
    server->create_database(db->name());
    auto conn = server->superuser(db->name());
    conn.exec(fmt::format(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{0}') THEN "
        "CREATE ROLE {0} LOGIN REPLICATION; END IF; END $$",
        TlsPostgres::kCertRole));
    conn.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
    conn.exec("INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 500) g");
    conn.exec(fmt::format("GRANT SELECT ON t TO {}", TlsPostgres::kCertRole));
    conn.exec(fmt::format("CREATE PUBLICATION {} FOR TABLE t", db->name()));
  }

  config::Config tls_config(const std::string& host, const std::string& sslmode) const {
    auto cfg = make_test_config(*db, {"public.t"});
    cfg.postgres.host = host;
    cfg.postgres.port = server->port();
    cfg.postgres.user = TlsPostgres::kCertRole;
    cfg.postgres.password.clear();
    cfg.postgres.sslmode = sslmode;
    cfg.postgres.sslrootcert = server->certs().ca_crt.string();
    cfg.postgres.sslcert = server->certs().client_crt.string();
    cfg.postgres.sslkey = server->certs().client_key.string();
    return cfg;
  }

  CliOutcome run(const config::Config& cfg, std::vector<std::string> args, const std::string& tag) {
    return run_pg2ch(*db, write_config_file(cfg, db->dir() / (tag + ".toml")), std::move(args), tag);
  }

  Rows pg_rows() {
    auto conn = server->superuser(db->name());
    return rows_of(conn, "SELECT id, v FROM t ORDER BY id");
  }
  Rows ch_rows() { return db->ch_rows("SELECT id, v FROM t FINAL WHERE _deleted = 0 ORDER BY id"); }

  static inline std::unique_ptr<TlsPostgres> server;
  std::unique_ptr<TestDatabase> db;
};

TEST_F(SecurityPostgresTls, VerifyFullWithAClientCertificateStreams) {
  const auto cfg = tls_config("localhost", "verify-full");
  auto setup = run(cfg, {"setup"}, "setup");
  ASSERT_EQ(setup.exit_code, 0) << setup.stderr_text;
  auto first = run(cfg, {"run", "--until-caught-up"}, "run1");
  ASSERT_EQ(first.exit_code, 0) << first.stderr_text;
  EXPECT_TRUE(same_rows(pg_rows(), ch_rows()));

  // Streamed changes travel the replication connection, over TLS too.
  auto conn = server->superuser(db->name());
  conn.exec("INSERT INTO t SELECT g, 'new ' || g FROM generate_series(501, 600) g");
  conn.exec("UPDATE t SET v = 'changed' WHERE id % 7 = 0");
  conn.exec("DELETE FROM t WHERE id % 11 = 0");
  auto second = run(cfg, {"run", "--until-caught-up"}, "run2");
  ASSERT_EQ(second.exit_code, 0) << second.stderr_text;
  const auto expected = pg_rows();
  EXPECT_EQ(expected.size(), 546u);
  EXPECT_TRUE(same_rows(expected, ch_rows()));
}

TEST_F(SecurityPostgresTls, VerifyFullRefusesAServerCertificateForAnotherHostName) {
  // The server's certificate names localhost only; 127.0.0.1 is the same server by another name.
  auto refused = run(tls_config("127.0.0.1", "verify-full"), {"setup"}, "verify_full");
  expect_one_line_error(refused, {"127.0.0.1", "does not match host name"}, 2);
  // verify-ca checks the chain only, so the same connection is accepted.
  auto accepted = run(tls_config("127.0.0.1", "verify-ca"), {"setup"}, "verify_ca");
  EXPECT_EQ(accepted.exit_code, 0) << accepted.stderr_text;
}

TEST_F(SecurityPostgresTls, ACaThatDidNotSignTheServerIsRefused) {
  auto cfg = tls_config("localhost", "verify-full");
  cfg.postgres.sslrootcert = server->certs().other_ca_crt.string();
  auto refused = run(cfg, {"setup"}, "other_ca");
  expect_one_line_error(refused, {"certificate verify failed", "sslmode"}, 2);
}

TEST_F(SecurityPostgresTls, WithoutTlsTheServerRefusesTheConnection) {
  auto cfg = tls_config("localhost", "disable");
  auto refused = run(cfg, {"setup"}, "no_tls");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.stderr_text.find("no encryption"), std::string::npos) << refused.stderr_text;
}

TEST_F(SecurityPostgresTls, WithoutTheClientCertificateTheCertRoleCannotLogIn) {
  auto cfg = tls_config("localhost", "verify-full");
  cfg.postgres.sslcert = (server->dir() / "no-such.crt").string();
  cfg.postgres.sslkey = (server->dir() / "no-such.key").string();
  auto refused = run(cfg, {"setup"}, "no_cert");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.stderr_text.find("certificate"), std::string::npos) << refused.stderr_text;
}

}  // namespace
}  // namespace pg2ch::test::security
