// HTTPS to ClickHouse against a 18.16 server of the test's own with an https_port and the test
// CA's certificate (security/https_clickhouse.h): clickhouse.ca_file makes the server trusted; no
// CA file, or another CA, fails with an error that says what to fix. Not on the 26.7 engine
// fixture: its test-only HTTP front has no TLS.
#include <gtest/gtest.h>

#include "security/https_clickhouse.h"
#include "security/security_support.h"
#include "support/fixture.h"

namespace pg2ch::test::security {
namespace {

class SecurityClickHouseHttps : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!ch_server().engine) server = std::make_unique<HttpsClickHouse>("pg2ch_limited_target");
  }
  static void TearDownTestSuite() { server.reset(); }

  void SetUp() override {
    PG2CH_SKIP_ON_CLICKHOUSE_ENGINE("its test-only HTTP front has no HTTPS; the 18.16 server is tested");
    db = std::make_unique<TestDatabase>(make_test_database());
    server->admin().execute("CREATE DATABASE IF NOT EXISTS " + db->name());
    // Changes must be in the WAL `run --until-caught-up` reads up to once the statement returns.
    db->pg_exec("SET synchronous_commit = on");
    db->pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
    db->pg_exec("INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 300) g");
  }
  void TearDown() override {
    if (server && db) server->admin().execute("DROP DATABASE IF EXISTS " + db->name());
  }

  config::Config https_config() const {
    auto cfg = make_test_config(*db, {"public.t"});
    cfg.clickhouse.host = "localhost";
    cfg.clickhouse.port = server->https_port();
    cfg.clickhouse.secure = true;
    cfg.clickhouse.ca_file = server->certs().ca_crt.string();
    return cfg;
  }

  CliOutcome run(const config::Config& cfg, std::vector<std::string> args, const std::string& tag) {
    return run_pg2ch(*db, write_config_file(cfg, db->dir() / (tag + ".toml")), std::move(args), tag);
  }

  static inline std::unique_ptr<HttpsClickHouse> server;
  std::unique_ptr<TestDatabase> db;
};

TEST_F(SecurityClickHouseHttps, CaFileMakesTheServerTrusted) {
  const auto cfg = https_config();
  auto setup = run(cfg, {"setup"}, "setup");
  ASSERT_EQ(setup.exit_code, 0) << setup.stderr_text;
  auto first = run(cfg, {"run", "--until-caught-up"}, "run1");
  ASSERT_EQ(first.exit_code, 0) << first.stderr_text;
  db->pg_exec("UPDATE t SET v = 'changed' WHERE id % 5 = 0");
  db->pg_exec("DELETE FROM t WHERE id % 9 = 0");
  auto second = run(cfg, {"run", "--until-caught-up"}, "run2");
  ASSERT_EQ(second.exit_code, 0) << second.stderr_text;
  auto ch = server->admin(db->name());
  const auto expected = db->pg_rows("SELECT id, v FROM t ORDER BY id");
  EXPECT_EQ(expected.size(), 267u);
  EXPECT_TRUE(same_rows(expected, rows_of(ch, "SELECT id, v FROM t FINAL WHERE _deleted = 0 ORDER BY id")));
}

TEST_F(SecurityClickHouseHttps, WithoutTheCaFileTheServerIsNotTrusted) {
  auto cfg = https_config();
  cfg.clickhouse.ca_file.clear();
  expect_one_line_error(run(cfg, {"setup"}, "no_ca"), {"localhost", "certificate"}, 2);
}

TEST_F(SecurityClickHouseHttps, ACaThatDidNotSignTheServerIsRefused) {
  auto cfg = https_config();
  cfg.clickhouse.ca_file = server->certs().other_ca_crt.string();
  expect_one_line_error(run(cfg, {"setup"}, "other_ca"), {"certificate", "clickhouse.ca_file"}, 2);
}

TEST_F(SecurityClickHouseHttps, TheCertificateMustNameTheHost) {
  auto cfg = https_config();
  cfg.clickhouse.host = "127.0.0.1";  // the certificate names localhost only
  expect_one_line_error(run(cfg, {"setup"}, "host_name"), {"127.0.0.1"}, 2);
}

TEST_F(SecurityClickHouseHttps, ClientCertificateWhenTheServerAsksForOne) {
  HttpsClickHouse mtls("pg2ch_limited_target", /*require_client_certificate=*/true);
  mtls.admin().execute("CREATE DATABASE " + db->name());
  auto cfg = https_config();
  cfg.clickhouse.port = mtls.https_port();
  cfg.clickhouse.ca_file = mtls.certs().ca_crt.string();

  auto refused = run(cfg, {"setup"}, "no_client_cert");
  EXPECT_NE(refused.exit_code, 0) << "the server asks for a certificate and gets none";
  EXPECT_NE(refused.stderr_text.find("clickhouse.cert_file"), std::string::npos) << refused.stderr_text;

  cfg.clickhouse.cert_file = mtls.certs().client_crt.string();
  cfg.clickhouse.key_file = mtls.certs().client_key.string();
  auto setup = run(cfg, {"setup"}, "setup");
  ASSERT_EQ(setup.exit_code, 0) << setup.stderr_text;
  auto first = run(cfg, {"run", "--until-caught-up"}, "run");
  ASSERT_EQ(first.exit_code, 0) << first.stderr_text;
  auto ch = mtls.admin(db->name());
  EXPECT_TRUE(same_rows(db->pg_rows("SELECT id, v FROM t ORDER BY id"),
                        rows_of(ch, "SELECT id, v FROM t FINAL WHERE _deleted = 0 ORDER BY id")));

  cfg.clickhouse.key_file = server->certs().client_key.string();  // a key of another certificate
  expect_one_line_error(run(cfg, {"setup"}, "wrong_key"), {"clickhouse.cert_file"}, 2);
}

}  // namespace
}  // namespace pg2ch::test::security
