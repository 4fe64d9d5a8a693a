// Passwords never appear in describe() or in any error message.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace pg2ch::config {
namespace {

using testing::TempDir;

constexpr const char* kSecret = "Sup3r-S3cret";

void expect_no_secret(const Error& e) {
  EXPECT_EQ(std::string(e.what()).find(kSecret), std::string::npos) << e.what();
  EXPECT_EQ(e.hint().find(kSecret), std::string::npos) << e.hint();
}

TEST(ConfigSecrets, DescribeHasNoPassword) {
  PostgresConfig pg;
  pg.password = kSecret;
  ClickHouseConfig ch;
  ch.password = kSecret;
  EXPECT_EQ(pg.describe().find(kSecret), std::string::npos);
  EXPECT_EQ(ch.describe().find(kSecret), std::string::npos);
}

TEST(ConfigSecrets, WrongTypeForPasswordDoesNotShowIt) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.config_path = dir.write("p.toml", "[clickhouse]\npassword = 1234567\n");
  auto e = testing::config_error([&] { load(options); });
  EXPECT_NE(std::string(e.what()).find("clickhouse.password"), std::string::npos) << e.what();
  EXPECT_EQ(std::string(e.what()).find("1234567"), std::string::npos) << e.what();
}

TEST(ConfigSecrets, OtherErrorsInTheSameSourcesDoNotShowIt) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.config_path = dir.write("p.toml", std::string("[postgres]\npassword = \"") + kSecret + "\"\nport = 0\n");
  expect_no_secret(testing::config_error([&] { load(options); }));

  options.config_path.reset();
  options.env_file = dir.write(".env", std::string("PG_PASSWORD=") + kSecret + "\nCH_PASSWORD='" + kSecret + "\n");
  expect_no_secret(testing::config_error([&] { load(options); }));

  options.env_file.reset();
  options.environment = {{"PG_PASSWORD", kSecret}, {"CH_PASSWORD", kSecret}, {"PG_PORT", "x"}};
  expect_no_secret(testing::config_error([&] { load(options); }));
}

TEST(ConfigSecrets, TomlSyntaxErrorNearPasswordDoesNotShowIt) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.config_path = dir.write("p.toml", std::string("[postgres]\npassword = \"") + kSecret + "\n");
  expect_no_secret(testing::config_error([&] { load(options); }));
}

}  // namespace
}  // namespace pg2ch::config
