#include <gtest/gtest.h>

#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {
namespace {

ServerCapabilities caps_of(const char* version) { return ServerCapabilities::from_version(parse_server_version(version)); }

TEST(ClickHouseChooseCompression, AutoIsNoneOnLoopbackAndGzipElsewhere) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "LocalHost", "::1", "[::1]"})
    EXPECT_EQ(choose_compression("auto", host, nullptr), Compression::None) << host;
  for (const char* host : {"10.0.0.5", "ch.example.com", "128.0.0.1", "localhost.example.com", "::2"})
    EXPECT_EQ(choose_compression("auto", host, nullptr), Compression::Gzip) << host;
}

TEST(ClickHouseChooseCompression, ExplicitChoicesWin) {
  EXPECT_EQ(choose_compression("none", "10.0.0.5", nullptr), Compression::None);
  EXPECT_EQ(choose_compression("gzip", "127.0.0.1", nullptr), Compression::Gzip);
  EXPECT_EQ(choose_compression("GZIP", "127.0.0.1", nullptr), Compression::Gzip);
  auto modern = caps_of("23.8.1");
  EXPECT_EQ(choose_compression("zstd", "10.0.0.5", &modern), Compression::Zstd);
  EXPECT_EQ(choose_compression("zstd", "10.0.0.5", nullptr), Compression::Zstd);
}

TEST(ClickHouseChooseCompression, ZstdOnOldServerIsAConfigErrorNamingTheSetting) {
  auto old = caps_of("18.16.1");
  try {
    choose_compression("zstd", "10.0.0.5", &old);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("clickhouse.compression"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("18.16.1"), std::string::npos);
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST(ClickHouseChooseCompression, UnknownValueIsAConfigError) {
  try {
    choose_compression("lz4", "10.0.0.5", nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("clickhouse.compression"), std::string::npos);
  }
}

}  // namespace
}  // namespace pg2ch::clickhouse
