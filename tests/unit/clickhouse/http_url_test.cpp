#include "clickhouse/http_url.h"

#include <gtest/gtest.h>

namespace pg2ch::clickhouse {
namespace {

TEST(ClickHouseUrl, BaseUrlCarriesTheDatabaseButNoCredentials) {
  Endpoint e;
  e.host = "ch.example.com";
  e.port = 8443;
  e.secure = true;
  e.user = "writer";
  e.password = "s3cret";
  e.database = "analytics db";
  EXPECT_EQ(base_url(e), "https://ch.example.com:8443/?database=analytics%20db");
  EXPECT_EQ(e.describe(), "writer@ch.example.com:8443/analytics db");
}

TEST(ClickHouseUrl, Ipv6HostsAreBracketed) {
  Endpoint e;
  e.host = "::1";
  EXPECT_EQ(base_url(e), "http://[::1]:8123/?database=default");
  e.host = "[fe80::1]";
  EXPECT_EQ(base_url(e), "http://[fe80::1]:8123/?database=default");
}

TEST(ClickHouseUrl, ParamsArePercentEncoded) {
  std::string url = "x";
  append_url_param(url, "query", "INSERT INTO `db`.t (a,b) FORMAT RowBinary");
  append_url_param(url, "max_insert_block_size", "1048576");
  EXPECT_EQ(url,
            "x&query=INSERT%20INTO%20%60db%60.t%20%28a%2Cb%29%20FORMAT%20RowBinary"
            "&max_insert_block_size=1048576");
  std::string raw;
  append_url_encoded(raw, "a-b_c.d~e&=?/+\xC3\xA9");
  EXPECT_EQ(raw, "a-b_c.d~e%26%3D%3F%2F%2B%C3%A9");
}

}  // namespace
}  // namespace pg2ch::clickhouse
