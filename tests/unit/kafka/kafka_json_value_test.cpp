// PostgreSQL binary value in → the exact JSON Debezium's PostgreSQL connector writes (payload,
// JsonConverter schemas.enable=false) under the settings docs/kafka.md names.
#include "kafka/json_value.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "kafka/json_text.h"
#include "kafka_test_support.h"

namespace pg2ch::kafka {
namespace {

using test::array_of;
using test::pg_type;
using test::unhex;
namespace oid = types::oid;

std::string json(const types::PgTypeDesc& type, std::string_view hex) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  write_json_value(type, unhex(hex), w);
  return std::string(buf.GetString(), buf.GetSize());
}
std::string json(std::uint32_t type_oid, std::string_view hex) { return json(pg_type(type_oid), hex); }
std::string json_text(std::uint32_t type_oid, std::string_view text) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  write_json_value(pg_type(type_oid), text, w);
  return std::string(buf.GetString(), buf.GetSize());
}

TEST(KafkaJsonValue, Integers) {
  EXPECT_EQ(json(oid::kInt2, "ffff"), "-1");
  EXPECT_EQ(json(oid::kInt4, "0000002a"), "42");
  EXPECT_EQ(json(oid::kInt8, "8000000000000000"), "-9223372036854775808");
  EXPECT_EQ(json(oid::kOid, "ffffffff"), "4294967295");
  EXPECT_EQ(json(oid::kBool, "01"), "true");
  EXPECT_EQ(json(oid::kBool, "00"), "false");
}

TEST(KafkaJsonValue, FloatsAreShortestRoundTripAndQuoteNonFinite) {
  EXPECT_EQ(json(oid::kFloat4, "3f8ccccd"), "1.1") << "float4 keeps float precision, not 1.100000023841858";
  EXPECT_EQ(json(oid::kFloat8, "3fe0000000000000"), "0.5");
  EXPECT_EQ(json(oid::kFloat8, "4000000000000000"), "2.0");
  EXPECT_EQ(json(oid::kFloat8, "fe37e43c8800759c"), "-1e+300");
  EXPECT_EQ(json(oid::kFloat8, "7ff8000000000000"), "\"NaN\"");
  EXPECT_EQ(json(oid::kFloat8, "fff0000000000000"), "\"-Infinity\"");
  EXPECT_EQ(json(oid::kFloat4, "7f800000"), "\"Infinity\"");
}

TEST(KafkaJsonValue, NumericAndMoneyAreExactStrings) {
  // 12.50: ndigits 2, weight 0, sign +, dscale 2, digits 12 5000 (decimal.handling.mode=string)
  EXPECT_EQ(json(oid::kNumeric, "0002 0000 0000 0002 000c 1388"), "\"12.50\"");
  EXPECT_EQ(json(oid::kNumeric, "0000 0000 c000 0000"), "\"NaN\"");
  EXPECT_EQ(json(oid::kMoney, "00000000000004d2"), "\"12.34\"");
  EXPECT_EQ(json(oid::kMoney, "fffffffffffffffb"), "\"-0.05\"");
}

TEST(KafkaJsonValue, TextLikeTypes) {
  EXPECT_EQ(json_text(oid::kText, "a \"quoted\"\n"), R"("a \"quoted\"\n")");
  EXPECT_EQ(json_text(oid::kVarchar, "π"), "\"π\"");
  EXPECT_EQ(json_text(oid::kBpchar, "ab  "), "\"ab  \"") << "char(n) keeps its padding, as Debezium does";
  EXPECT_EQ(json_text(oid::kJson, "{\"a\": 1}"), R"("{\"a\": 1}")") << "io.debezium.data.Json is a string";
  EXPECT_EQ(json(oid::kJsonb, "01 7b7d"), R"("{}")") << "jsonb: version byte dropped";
  EXPECT_EQ(json(oid::kChar, "00"), R"("")");
  EXPECT_EQ(json(oid::kChar, "61"), R"("a")");
  EXPECT_EQ(json(oid::kChar, "c3"), R"("\\303")") << "a high-bit byte as PostgreSQL prints it: valid UTF-8";
  EXPECT_EQ(json(pg_type(99999, -1, 'e'), "68617070"), "\"happ\"") << "enum label";
}

TEST(KafkaJsonValue, ByteaIsBase64) {
  EXPECT_EQ(json(oid::kBytea, ""), "\"\"");
  EXPECT_EQ(json(oid::kBytea, "00ff10"), "\"AP8Q\"");
  EXPECT_EQ(json(oid::kBytea, "deadbeef"), "\"3q2+7w==\"");
  EXPECT_EQ(json(oid::kBytea, "deadbeefff"), "\"3q2+7/8=\"");
}

TEST(KafkaJsonValue, Uuid) {
  EXPECT_EQ(json(oid::kUuid, "a0eebc999c0b4ef8bb6d6bb9bd380a11"), "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
}

TEST(KafkaJsonValue, DatesAndTimesFollowAdaptiveTimeMicroseconds) {
  EXPECT_EQ(json(oid::kDate, "000022b7"), "19844") << "2024-05-01 as days since 1970";
  EXPECT_EQ(json(oid::kDate, "ffffd533"), "0") << "1970-01-01";
  EXPECT_EQ(json(oid::kDate, "7fffffff"), "2147483647") << "infinity passes through";
  EXPECT_EQ(json(oid::kTime, "000000036c97ca88"), "14706789000") << "µs since midnight";
  // 2024-05-01 10:00:00.5
  EXPECT_EQ(json(oid::kTimestamp, "0002ba605181a920"), "1714557600500000") << "MicroTimestamp";
  EXPECT_EQ(json(pg_type(oid::kTimestamp, 3), "0002ba605181a920"), "1714557600500") << "timestamp(3): ms";
  EXPECT_EQ(json(oid::kTimestampTz, "0002ba605181a920"), "\"2024-05-01T10:00:00.5Z\"") << "ZonedTimestamp";
  EXPECT_EQ(json(oid::kTimestampTz, "fffca2eaa6f0c001"), "\"1969-12-31T00:00:00.000001Z\"");
  EXPECT_EQ(json(oid::kTimestampTz, "7fffffffffffffff"), "\"infinity\"");
  EXPECT_EQ(json(oid::kTimestamp, "8000000000000000"), "-9223372036854775808");
}

TEST(KafkaJsonValue, IntervalIsIso8601) {
  // 1 year 2 months 3 days 04:05:06.789: µs, days, months (interval.handling.mode=string)
  EXPECT_EQ(json(oid::kInterval, "000000036c97ca88 00000003 0000000e"), "\"P1Y2M3DT4H5M6.789S\"");
}

TEST(KafkaJsonValue, NetworkTypes) {
  EXPECT_EQ(json(oid::kInet, "02 20 00 04 c0a80105"), "\"192.168.1.5\"");
  EXPECT_EQ(json(oid::kCidr, "02 08 01 04 0a000000"), "\"10.0.0.0/8\"");
  EXPECT_EQ(json(oid::kMacaddr, "08002b010203"), "\"08:00:2b:01:02:03\"");
}

TEST(KafkaJsonValue, ArraysNestByTheValuesDimensions) {
  // int4[] {1,NULL,3}: ndim 1, has nulls, oid 23, dim 3 lb 1, elements
  EXPECT_EQ(json(array_of(oid::kInt4),
                 "00000001 00000001 00000017 00000003 00000001 00000004 00000001 ffffffff 00000004 00000003"),
            "[1,null,3]");
  // text[][] {{a,b},{c,d}}
  EXPECT_EQ(json(array_of(oid::kText), "00000002 00000000 00000019 00000002 00000001 00000002 00000001 "
                                       "00000001 61 00000001 62 00000001 63 00000001 64"),
            R"([["a","b"],["c","d"]])");
  EXPECT_EQ(json(array_of(oid::kInt4), "00000000 00000000 00000017"), "[]");
}

TEST(KafkaJsonValue, MalformedBytesAreProtocolErrors) {
  EXPECT_THROW(json(oid::kInt4, "0001"), ProtocolError);
  EXPECT_THROW(json(array_of(oid::kInt4), "00000001 00000000 00000017 00000002 00000001 00000004 00000001"),
               ProtocolError);
  EXPECT_THROW(json(3904 /* int4range */, "00"), Error);
}

TEST(KafkaJsonText, IsoInstantEdges) {
  EXPECT_EQ(iso_instant(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso_instant(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(iso_instant(253402300800000000), "+10000-01-01T00:00:00Z");
  EXPECT_EQ(iso_instant(-62135596800000000), "0001-01-01T00:00:00Z");
  EXPECT_EQ(iso_instant(-62135596800000000 - 86400000000LL), "0000-12-31T00:00:00Z");
}

}  // namespace
}  // namespace pg2ch::kafka
