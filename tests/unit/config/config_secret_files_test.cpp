// Passwords from files (*.password_file), the warning for secret files other users may read, and
// secrets refused on the command line.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "config_test_util.h"

namespace pg2ch::config {
namespace {

using testing::TempDir;

constexpr const char* kSecret = "Fi1e-S3cret";

std::string private_file(const TempDir& dir, const std::string& name, const std::string& text) {
  auto path = dir.write(name, text);
  ::chmod(path.c_str(), 0600);
  return path;
}

bool has_warning_about(const Config& c, const std::string& what) {
  for (const auto& w : c.warnings)
    if (w.find(what) != std::string::npos) return true;
  return false;
}

TEST(ConfigSecretFiles, EachPasswordFileSetsItsPassword) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.environment = {{"PG2CH_POSTGRES_PASSWORD_FILE", private_file(dir, "pg", std::string(kSecret) + "-pg\n")},
                         {"PG2CH_CLICKHOUSE_PASSWORD_FILE", private_file(dir, "ch", std::string(kSecret) + "-ch\r\n")},
                         {"PG2CH_KAFKA_SASL_PASSWORD_FILE", private_file(dir, "k", std::string(kSecret) + "-k")}};
  auto c = load(options);
  EXPECT_EQ(c.postgres.password, std::string(kSecret) + "-pg") << "the line end is not part of the password";
  EXPECT_EQ(c.clickhouse.password, std::string(kSecret) + "-ch");
  EXPECT_EQ(c.kafka.sasl_password, std::string(kSecret) + "-k");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  ASSERT_TRUE(c.given.contains("postgres.password"));
  EXPECT_EQ(c.given["postgres.password"].find(kSecret), std::string::npos) << "a digest, not the value";
}

TEST(ConfigSecretFiles, OnlyTheFirstLineIsThePassword) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.cli_overrides["postgres.password_file"] = private_file(dir, "pg", "first\nsecond\n");
  EXPECT_EQ(load(options).postgres.password, "first");
}

TEST(ConfigSecretFiles, PasswordAndFileTogetherIsAnError) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.environment = {{"PG_PASSWORD", kSecret}};
  options.cli_overrides["postgres.password_file"] = private_file(dir, "pg", "other\n");
  auto e = testing::config_error([&] { load(options); });
  EXPECT_NE(std::string(e.what()).find("postgres.password and postgres.password_file"), std::string::npos)
      << e.what();
  EXPECT_EQ(e.one_line().find(kSecret), std::string::npos) << e.one_line();
}

TEST(ConfigSecretFiles, MissingOrEmptyFileNamesTheSetting) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.cli_overrides["clickhouse.password_file"] = (dir.path() / "nope").string();
  auto e = testing::config_error([&] { load(options); });
  EXPECT_NE(std::string(e.what()).find("clickhouse.password_file"), std::string::npos) << e.what();

  options.cli_overrides["clickhouse.password_file"] = private_file(dir, "empty", "\n");
  e = testing::config_error([&] { load(options); });
  EXPECT_NE(std::string(e.what()).find("is empty"), std::string::npos) << e.what();
}

TEST(ConfigSecretFiles, WarnsWhenOthersMayReadAPasswordFile) {
  TempDir dir;
  auto path = dir.write("pg", kSecret);
  ::chmod(path.c_str(), 0644);
  auto options = testing::isolated_options();
  options.cli_overrides["postgres.password_file"] = path;
  auto c = load(options);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("postgres.password_file " + path), std::string::npos) << c.warnings[0];
  EXPECT_NE(c.warnings[0].find("0644"), std::string::npos) << c.warnings[0];
  EXPECT_NE(c.warnings[0].find("chmod 600"), std::string::npos) << c.warnings[0];
  EXPECT_EQ(c.warnings[0].find(kSecret), std::string::npos);

  ::chmod(path.c_str(), 0640);
  EXPECT_EQ(load(options).warnings.size(), 1u) << "group-readable is readable by others too";
  ::chmod(path.c_str(), 0400);
  EXPECT_TRUE(load(options).warnings.empty());
}

TEST(ConfigSecretFiles, WarnsWhenOthersMayReadTheEnvFile) {
  TempDir dir;
  auto path = dir.write(".env", std::string("PG_PASSWORD=") + kSecret + "\n");
  ::chmod(path.c_str(), 0644);
  auto options = testing::isolated_options();
  options.env_file = path;
  auto c = load(options);
  EXPECT_TRUE(has_warning_about(c, ".env file " + path)) << (c.warnings.empty() ? "no warning" : c.warnings[0]);
  ::chmod(path.c_str(), 0600);
  EXPECT_TRUE(load(options).warnings.empty());
}

TEST(ConfigSecretFiles, SecretsAreRefusedOnTheCommandLine) {
  for (const char* key : {"postgres.password", "clickhouse.password", "kafka.sasl_password", "kafka.ssl_key_password"}) {
    auto options = testing::isolated_options();
    options.cli_overrides[key] = kSecret;
    auto e = testing::config_error([&] { load(options); });
    EXPECT_NE(std::string(e.what()).find(std::string(key) + " cannot be given on the command line"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.one_line().find(kSecret), std::string::npos) << e.one_line();
  }
}

}  // namespace
}  // namespace pg2ch::config
