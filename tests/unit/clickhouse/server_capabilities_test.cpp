#include "clickhouse/server_capabilities.h"

#include <gtest/gtest.h>

namespace pg2ch::clickhouse {
namespace {

TEST(ClickHouseServerVersion, ParsesDebianAndModernVersions) {
  auto v = parse_server_version("18.16.1");
  EXPECT_EQ(v.major, 18);
  EXPECT_EQ(v.minor, 16);
  EXPECT_EQ(v.patch, 1);
  EXPECT_EQ(v.text, "18.16.1");

  v = parse_server_version("23.8.2.7");
  EXPECT_EQ(v.major, 23);
  EXPECT_EQ(v.minor, 8);
  EXPECT_EQ(v.patch, 2);
}

TEST(ClickHouseServerVersion, StopsAtGarbage) {
  auto v = parse_server_version("21");
  EXPECT_EQ(v.major, 21);
  EXPECT_EQ(v.minor, 0);
  v = parse_server_version("not a version");
  EXPECT_EQ(v.major, 0);
}

TEST(ClickHouseServerVersion, AtLeastComparesMajorThenMinor) {
  auto v = parse_server_version("21.9.1");
  EXPECT_TRUE(v.at_least(21, 9));
  EXPECT_TRUE(v.at_least(20, 12));
  EXPECT_TRUE(v.at_least(21));
  EXPECT_FALSE(v.at_least(21, 10));
  EXPECT_FALSE(v.at_least(22, 1));
}

TEST(ClickHouseCapabilities, Debian1816HasNoneOfTheNewFeatures) {
  auto c = ServerCapabilities::from_version(parse_server_version("18.16.1"));
  EXPECT_FALSE(c.datetime64);
  EXPECT_FALSE(c.date32);
  EXPECT_FALSE(c.bool_type);
  EXPECT_FALSE(c.decimal256);
  EXPECT_FALSE(c.replacing_is_deleted);
  EXPECT_FALSE(c.create_or_replace_view);
  EXPECT_FALSE(c.http_zstd);
  EXPECT_FALSE(c.insert_deduplication_token);
}

TEST(ClickHouseCapabilities, ThresholdsSwitchExactlyAtTheirRelease) {
  auto at = [](const char* v) { return ServerCapabilities::from_version(parse_server_version(v)); };
  EXPECT_FALSE(at("19.17.1").datetime64);
  EXPECT_TRUE(at("20.1.2").datetime64);
  EXPECT_TRUE(at("20.1.2").create_or_replace_view);
  EXPECT_FALSE(at("20.3.9").rename_column);
  EXPECT_TRUE(at("20.4.2").rename_column);
  EXPECT_FALSE(at("20.12.1").http_zstd);
  EXPECT_TRUE(at("21.1.1").http_zstd);
  EXPECT_FALSE(at("21.8.1").date32);
  EXPECT_TRUE(at("21.9.1").date32);
  EXPECT_FALSE(at("21.11.1").bool_type);
  EXPECT_TRUE(at("21.12.1").bool_type);
  EXPECT_FALSE(at("21.12.1").decimal256);
  EXPECT_TRUE(at("22.1.1").decimal256);
  EXPECT_FALSE(at("23.1.1").replacing_is_deleted);
  EXPECT_TRUE(at("23.2.1").replacing_is_deleted);
  EXPECT_FALSE(at("22.1.3").insert_deduplication_token);
  EXPECT_TRUE(at("22.2.1").insert_deduplication_token);
}

}  // namespace
}  // namespace pg2ch::clickhouse
