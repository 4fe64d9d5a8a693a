// Secrets never reach pg2ch's output: not its logs at the most verbose level, not `status` (text
// or JSON), not `verify`, not its errors — whether the passwords come from a .env file, the
// environment or a password file; and they are refused on the command line.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "security/security_support.h"
#include "support/fixture.h"

namespace pg2ch::test::security {
namespace {

// PostgreSQL's fixture trusts the superuser on loopback, so any password is accepted for it and
// the test can give a distinctive one; ClickHouse's password user has a fixed password.
constexpr const char* kPgPassword = "Redact-Me-PG-7f3a";

class SecurityRedaction : public ::testing::Test {
 protected:
  void SetUp() override {
    db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
    db.pg_exec("INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 100) g");
    cfg.postgres.password.clear();
    cfg.clickhouse.password.clear();
    cfg.clickhouse.user = ch_server().password_user;
    cfg.log.level = "trace";
    config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  }

  // A .env file with both passwords, readable by everyone (pg2ch warns, and still works).
  std::filesystem::path world_readable_env() const {
    const auto path = db.dir() / "pg2ch.env";
    std::ofstream(path) << "PG_PASSWORD=" << kPgPassword << "\nCH_PASSWORD='" << ch_server().password_user_password
                        << "'\n";
    ::chmod(path.c_str(), 0644);
    return path;
  }

  void expect_no_secrets(const CliOutcome& o, const std::string& what) {
    for (const std::string& secret : {std::string(kPgPassword), ch_server().password_user_password}) {
      EXPECT_EQ(o.stdout_text.find(secret), std::string::npos) << what << " printed a password:\n" << o.stdout_text;
      EXPECT_EQ(o.stderr_text.find(secret), std::string::npos) << what << " logged a password:\n" << o.stderr_text;
    }
  }

  TestDatabase db = make_test_database();
  config::Config cfg = make_test_config(db, {"public.t"});
  std::filesystem::path config_file;
};

TEST_F(SecurityRedaction, PasswordsFromAnEnvFileReachNoOutput) {
  const auto env_file = world_readable_env().string();
  for (const auto& [args, tag] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--env-file", env_file, "setup"}, "setup"},
           {{"--env-file", env_file, "run", "--until-caught-up"}, "run"},
           {{"--env-file", env_file, "status"}, "status"},
           {{"--env-file", env_file, "status", "--json"}, "status_json"},
           {{"--env-file", env_file, "verify"}, "verify"}}) {
    auto o = run_pg2ch(db, config_file, args, tag);
    EXPECT_EQ(o.exit_code, 0) << tag << ": " << o.stderr_text;
    expect_no_secrets(o, tag);
    EXPECT_NE(o.stderr_text.find(".env file " + env_file + " holds secrets but other users may read it (mode 0644)"),
              std::string::npos)
        << tag << ": " << o.stderr_text;
  }
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE _deleted = 0")[0][0], "100");
}

TEST_F(SecurityRedaction, PasswordsFromTheEnvironmentAndFilesReachNoOutput) {
  const auto ch_file = db.dir() / "ch.password";
  std::ofstream(ch_file) << ch_server().password_user_password << "\n";
  ::chmod(ch_file.c_str(), 0600);
  auto o = run_pg2ch(db, config_file, {"run", "--until-caught-up"}, "run",
                     {{"PG_PASSWORD", kPgPassword}, {"PG2CH_CLICKHOUSE_PASSWORD_FILE", ch_file.string()}});
  EXPECT_EQ(o.exit_code, 0) << o.stderr_text;
  EXPECT_EQ(o.stderr_text.find("other users may read it"), std::string::npos) << "mode 600 is private";
  expect_no_secrets(o, "run");
}

TEST_F(SecurityRedaction, WrongPasswordsAreNotEchoed) {
  const std::string wrong_ch = "Wrong-CH-Pw-91c2";
  auto ch = run_pg2ch(db, config_file, {"setup"}, "wrong_ch", {{"PG_PASSWORD", kPgPassword}, {"CH_PASSWORD", wrong_ch}});
  EXPECT_EQ(ch.exit_code, 4) << ch.stderr_text;
  EXPECT_EQ(ch.stderr_text.find(wrong_ch), std::string::npos) << ch.stderr_text;

  // The fixture's password-checked role (scram-sha-256), with a wrong password.
  const std::string wrong_pg = "Wrong-PG-Pw-5d7e";
  auto pg_cfg = cfg;
  pg_cfg.postgres.user = pg_server().limited_user;
  auto pg = run_pg2ch(db, write_config_file(pg_cfg, db.dir() / "wrong_pg.toml"), {"setup"}, "wrong_pg",
                      {{"PG_PASSWORD", wrong_pg}});
  expect_one_line_error(pg, {"password authentication failed"}, 4);
  EXPECT_EQ(pg.stderr_text.find(wrong_pg), std::string::npos) << pg.stderr_text;
}

TEST_F(SecurityRedaction, PasswordsAreRefusedOnTheCommandLine) {
  for (const char* key : {"postgres.password", "clickhouse.password", "kafka.sasl_password"}) {
    const std::string secret = std::string("Cli-Secret-") + key;
    auto o = run_pg2ch(db, config_file, {"--set", std::string(key) + "=" + secret, "status"}, "cli");
    expect_one_line_error(o, {std::string(key) + " cannot be given on the command line"}, 2);
    EXPECT_EQ(o.stderr_text.find(secret), std::string::npos) << o.stderr_text;
  }
}

}  // namespace
}  // namespace pg2ch::test::security
