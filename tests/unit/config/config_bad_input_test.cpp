// Config input as operators get it wrong (issue 13 item 3; docs/bad-input.md lists every case):
// hosts written as URLs, .env files pg2ch cannot read, and .env files from Windows editors and
// shell scripts. Each is a Config error naming the setting or file, or the value it means.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_test_util.h"

namespace pg2ch::config {
namespace {

using testing::TempDir;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Error cli_error(const std::string& key, const std::string& value) {
  auto options = testing::isolated_options();
  options.cli_overrides[key] = value;
  return testing::config_error([&] { load(options); });
}

Config loaded_with(const std::string& key, const std::string& value) {
  auto options = testing::isolated_options();
  options.cli_overrides[key] = value;
  return load(options);
}

// A URL used to become the host of the HTTP client's URL ("http://http://ch:8123:8123/"): curl
// could not resolve "http", a connection error retried as if ClickHouse were down; host:port made
// a URL curl refused, an internal error naming no setting.
TEST(ConfigBadInput, AHostWrittenAsAUrlOrWithAPortIsRefusedNamingTheSettingAndTheFix) {
  const auto url = cli_error("clickhouse.host", "http://ch.example.com:8123");
  EXPECT_TRUE(contains(url.what(), "setting clickhouse.host")) << url.what();
  EXPECT_TRUE(contains(url.what(), "is a URL, not a host name")) << url.what();
  EXPECT_TRUE(contains(url.hint(), "clickhouse.port")) << url.hint();
  EXPECT_TRUE(contains(url.hint(), "clickhouse.secure")) << url.hint();
  EXPECT_TRUE(contains(cli_error("postgres.host", "postgresql://app@db.example.com/shop").what(), "is a URL"));

  const auto with_port = cli_error("clickhouse.host", "ch.example.com:8123");
  EXPECT_TRUE(contains(with_port.what(), "includes a port")) << with_port.what();
  EXPECT_TRUE(contains(with_port.hint(), "clickhouse.port")) << with_port.hint();
  EXPECT_TRUE(contains(cli_error("postgres.host", "db.example.com:5432").hint(), "postgres.port"));
  EXPECT_TRUE(contains(cli_error("clickhouse.host", "ch.example.com/play").what(), "holds a '/'"));
}

TEST(ConfigBadInput, HostsThatAreNotUrlsStayAccepted) {
  EXPECT_EQ(loaded_with("clickhouse.host", "::1").clickhouse.host, "::1");
  EXPECT_EQ(loaded_with("clickhouse.host", "[fe80::1]").clickhouse.host, "[fe80::1]");
  EXPECT_EQ(loaded_with("clickhouse.host", "ch-1.internal").clickhouse.host, "ch-1.internal");
  EXPECT_EQ(loaded_with("postgres.host", "/var/run/postgresql").postgres.host, "/var/run/postgresql");
  EXPECT_EQ(loaded_with("postgres.host", "10.0.0.5").postgres.host, "10.0.0.5");
}

TEST(ConfigBadInput, AnEnvFileThatCannotBeReadIsAnErrorNamingIt) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.env_file = dir.path().string();  // a directory: it used to read as an empty file
  auto e = testing::config_error([&] { load(options); });
  EXPECT_TRUE(contains(e.what(), ".env file " + dir.path().string() + " is a directory")) << e.what();

  // Without read permission (root reads any file, so only a non-root run can check this).
  const auto file = dir.write("locked.env", "CH_HOST=x\n");
  ::chmod(file.c_str(), 0);
  if (::geteuid() != 0) {
    options.env_file = file;
    auto denied = testing::config_error([&] { load(options); });
    EXPECT_TRUE(contains(denied.what(), ".env file " + file + " cannot be read: Permission denied")) << denied.what();
  }
}

// A .env saved by a Windows editor (CRLF) and written for a shell (`export`): no '\r' may reach a
// value, where it would end up in a password or a host name.
TEST(ConfigBadInput, AnEnvFileWithCrlfAndExportGivesTheValuesWithoutCarriageReturns) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.env_file = dir.write("pg2ch.env",
                               "# pg2ch\r\n\r\nexport CH_HOST=ch.internal\r\nexport   PG_PASSWORD='se cret'\r\n"
                               "export CH_PASSWORD=\"x\\\"y\" # note\r\nPG_PORT=6432\r\n");
  const auto c = load(options);
  EXPECT_EQ(c.clickhouse.host, "ch.internal");
  EXPECT_EQ(c.postgres.password, "se cret");
  EXPECT_EQ(c.clickhouse.password, "x\"y");
  EXPECT_EQ(c.postgres.port, 6432);
}

// A UTF-8 byte-order mark (some Windows editors write one) is not part of the first name: the
// error says which line, rather than the variable silently going missing.
TEST(ConfigBadInput, AnEnvFileWithAByteOrderMarkIsAnErrorOnItsFirstLine) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.env_file = dir.write("bom.env", "\xEF\xBB\xBF" "CH_HOST=ch.internal\n");
  auto e = testing::config_error([&] { load(options); });
  EXPECT_TRUE(contains(e.what(), *options.env_file + ":1: malformed line")) << e.what();
}

}  // namespace
}  // namespace pg2ch::config
