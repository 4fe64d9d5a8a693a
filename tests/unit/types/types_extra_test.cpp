// The cheap lossless extras: interval (ISO 8601 text), inet/cidr/macaddr/macaddr8 (PostgreSQL's
// text form), money (Int64 minor units). Expected strings are PostgreSQL's own output.
#include "types_test_support.h"

namespace pg2ch::types::test {
namespace {

TEST(TypesInterval, Iso8601LikeIntervalStyleIso8601) {
  auto iv = map(scalar(oid::kInterval, "interval"));
  const struct {
    const char* pg_hex;  // interval_send: int64 µs, int32 days, int32 months
    const char* text;    // SET intervalstyle = iso_8601; SELECT v
  } cases[] = {
      {"00000000000000000000000000000000", "PT0S"},
      {"000000036c97ca88000000030000000e", "P1Y2M3DT4H5M6.789S"},
      {"fffffffc936c9e6000000003fffffff2", "P-1Y-2M3DT-4H-5M-6.5S"},
      {"00000000000000010000000000000000", "PT0.000001S"},
      {"ffffffffffffffff0000000000000000", "PT-0.000001S"},
      {"000000000000000000000000ffffffff", "P-1M"},
      {"ffffffff94b62e000000000000000000", "PT-30M"},
      {"7fffffffffffffff0000000000000000", "PT2562047788H54.775807S"},
      {"80000000000000010000000000000000", "PT-2562047788H-54.775807S"},
      {"0000000000000000000000007f50c600", "P178000000Y"},
      {"00000014f46b04000000000100000000", "P1DT25H"},
      {"000000000010c8e00000000000000000", "PT1.1S"},
      {"00000000000000000000000f00000000", "P15D"},
      {"000000000000000000000000fffffff3", "P-1Y-1M"},
      {"fffffffffff85ee00000000000000000", "PT-0.5S"},
      {"00000000038444c00000000000000000", "PT59S"},
      {"00000000000000008000000080af3a00", "P-178000000Y-2147483648D"},
      // PostgreSQL 17 infinite intervals
      {"7fffffffffffffff7fffffff7fffffff", "infinity"},
      {"80000000000000008000000080000000", "-infinity"},
  };
  for (const auto& c : cases) EXPECT_EQ(encode(iv, c.pg_hex), rb_string(c.text)) << c.text;
  EXPECT_EQ(encode_error(iv, "0000000000000000000000000000").kind(), ErrorKind::Protocol);
}

TEST(TypesInet, TextFormLikeInetOut) {
  auto inet = map(scalar(oid::kInet, "inet"));
  const struct {
    const char* pg_hex;  // inet_send: family, bits, is_cidr, length, address
    const char* text;
  } cases[] = {
      {"02200004c0a80105", "192.168.1.5"},
      {"02180004c0a80105", "192.168.1.5/24"},
      {"020800040a000000", "10.0.0.0/8"},
      {"0200000400000000", "0.0.0.0/0"},
      {"0380001000000000000000000000000000000001", "::1"},
      {"0340001020010db8000000000000000000000001", "2001:db8::1/64"},
      {"0380001000000000000000000000ffff01020304", "::ffff:1.2.3.4"},
      {"0380001000000000000000000000000001020304", "::1.2.3.4"},
      {"03800010fe800000000000000001000200030004", "fe80::1:2:3:4"},
      {"0380001020010db8000000000001000000000001", "2001:db8::1:0:0:1"},
      {"0380001000010000000000010000000000000000", "1:0:0:1::"},
  };
  for (const auto& c : cases) EXPECT_EQ(encode(inet, c.pg_hex), rb_string(c.text)) << c.text;
}

TEST(TypesInet, CidrAlwaysShowsThePrefix) {
  auto cidr = map(scalar(oid::kCidr, "cidr"));
  EXPECT_EQ(encode(cidr, "02180104c0a80100"), rb_string("192.168.1.0/24"));
  EXPECT_EQ(encode(cidr, "0220010401020304"), rb_string("1.2.3.4/32"));
  EXPECT_EQ(encode(cidr, "0320011020010db8000000000000000000000000"), rb_string("2001:db8::/32"));
  EXPECT_EQ(encode(cidr, "0300011000000000000000000000000000000000"), rb_string("::/0"));
}

TEST(TypesInet, MalformedIsProtocolError) {
  auto inet = map(scalar(oid::kInet, "inet"));
  for (const char* hex : {"02200004c0a801",                                // truncated address
                          "02200004c0a8010500",                            // trailing byte
                          "09200004c0a80105",                              // unknown family
                          "02200010c0a80105c0a80105c0a80105c0a80105",      // IPv4 with 16 bytes
                          "02210004c0a80105",                              // /33
                          "0381001000000000000000000000000000000001",      // /129
                          "022000"}) {
    EXPECT_EQ(encode_error(inet, hex).kind(), ErrorKind::Protocol) << hex;
  }
}

TEST(TypesMacaddr, TextForm) {
  EXPECT_EQ(encode(map(scalar(oid::kMacaddr, "macaddr")), "08002b010203"), rb_string("08:00:2b:01:02:03"));
  EXPECT_EQ(encode(map(scalar(oid::kMacaddr8, "macaddr8")), "08002b0102030405"),
            rb_string("08:00:2b:01:02:03:04:05"));
  EXPECT_EQ(encode_error(map(scalar(oid::kMacaddr, "macaddr")), "08002b0102").kind(), ErrorKind::Protocol);
  EXPECT_EQ(encode_error(map(scalar(oid::kMacaddr8, "macaddr8")), "08002b010203").kind(), ErrorKind::Protocol);
}

TEST(TypesMoney, Int64MinorUnits) {
  auto m = map(scalar(oid::kMoney, "money"));
  EXPECT_EQ(m.clickhouse_type, "Int64");
  EXPECT_EQ(encode(m, "00000000000004d2"), "d204000000000000");  // $12.34
  EXPECT_EQ(encode(m, "ffffffffffffffff"), "ffffffffffffffff");  // -$0.01
}

}  // namespace
}  // namespace pg2ch::types::test
