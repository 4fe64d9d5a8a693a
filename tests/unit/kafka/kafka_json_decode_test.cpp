// Debezium-style JSON → PostgreSQL binary, the inverse of write_json_value. The core check is the
// round trip: PostgreSQL binary → write_json_value → JSON text → RapidJSON → read_json_value must
// give back the same bytes. The hex values were produced by a PostgreSQL 15 server
// (`select encode(numeric_send('12.50'), 'hex')` and friends) unless built from numbers here.
#include "kafka/json_decode.h"
#include "kafka/json_parse.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <string_view>

#include "common/error.h"
#include "kafka/json_text.h"
#include "kafka/json_value.h"
#include "kafka_test_support.h"

namespace pg2ch::kafka {
namespace {

using test::array_of;
using test::be_bytes;
using test::pg_type;
using test::unhex;
using types::test::tohex;
namespace oid = types::oid;

constexpr std::int64_t kPgEpochMicros = 946'684'800'000'000;  // 2000-01-01 in µs since 1970

std::string to_json(const types::PgTypeDesc& type, std::string_view pg_binary) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  write_json_value(type, pg_binary, w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string from_json(const types::PgTypeDesc& type, std::string_view json) {
  rapidjson::Document doc;
  if (parse_json_exact(doc, json)) throw std::runtime_error("test JSON does not parse: " + std::string(json));
  std::string out;
  read_json_value(type, doc, out);
  return out;
}

std::string from_json(std::uint32_t type_oid, std::string_view json) { return from_json(pg_type(type_oid), json); }

::testing::AssertionResult round_trips(const types::PgTypeDesc& type, std::string_view pg_binary) {
  const std::string json = to_json(type, pg_binary);
  const std::string back = from_json(type, json);
  if (back == pg_binary) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << tohex(pg_binary) << " → " << json << " → " << tohex(back);
}

// Each hex value of `type` survives the round trip.
void expect_round_trips(const types::PgTypeDesc& type, std::initializer_list<std::string_view> hexes) {
  for (const std::string_view hex : hexes) EXPECT_TRUE(round_trips(type, unhex(hex))) << type.name;
}

Error decode_error(const types::PgTypeDesc& type, std::string_view json) {
  try {
    from_json(type, json);
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorKind::Internal, "no error thrown");
}
Error decode_error(std::uint32_t type_oid, std::string_view json) { return decode_error(pg_type(type_oid), json); }

// The value is rejected as malformed input (not an unsupported type, not silently accepted).
void expect_rejected(const types::PgTypeDesc& type, std::initializer_list<std::string_view> jsons) {
  for (const std::string_view json : jsons)
    EXPECT_EQ(decode_error(type, json).kind(), ErrorKind::Protocol) << type.name << " " << json;
}
void expect_rejected(std::uint32_t type_oid, std::initializer_list<std::string_view> jsons) {
  expect_rejected(pg_type(type_oid), jsons);
}

// ---- round trips --------------------------------------------------------------------------------

TEST(KafkaJsonDecodeRoundTrip, IntegersAndBool) {
  expect_round_trips(pg_type(oid::kInt2), {"0000", "ffff", "7fff", "8000"});
  expect_round_trips(pg_type(oid::kInt4), {"0000002a", "7fffffff", "80000000"});
  expect_round_trips(pg_type(oid::kInt8), {"0000000000000000", "7fffffffffffffff", "8000000000000000"});
  expect_round_trips(pg_type(oid::kOid), {"00000000", "ffffffff"});
  expect_round_trips(pg_type(oid::kBool), {"00", "01"});
}

TEST(KafkaJsonDecodeRoundTrip, FloatEdgeValues) {
  // 0, -0, smallest and largest denormal, largest finite, ±1.1, ±Infinity, NaN as PostgreSQL sends it.
  expect_round_trips(pg_type(oid::kFloat4), {"00000000", "80000000", "00000001", "007fffff", "80000001", "7f7fffff",
                                             "3f8ccccd", "bf8ccccd", "7f800000", "ff800000", "7fc00000"});
  expect_round_trips(pg_type(oid::kFloat8),
                     {"0000000000000000", "8000000000000000", "0000000000000001", "000fffffffffffff",
                      "7fefffffffffffff", "bff199999999999a", "fe37e43c8800759c", "7ff0000000000000",
                      "fff0000000000000", "7ff8000000000000"});
}

TEST(KafkaJsonDecodeRoundTrip, FloatSweep) {
  // Every 21474th float4 bit pattern (all exponents and many mantissas) and random float8 bits:
  // the shortest text read back with full precision gives the same bits.
  int checked = 0;
  for (std::uint64_t bits = 0; bits <= 0xFFFFFFFF; bits += 21474) {
    const auto f = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
    if (std::isnan(f)) continue;  // only the canonical NaN round-trips (see FloatEdgeValues)
    ASSERT_TRUE(round_trips(pg_type(oid::kFloat4), be_bytes(static_cast<std::uint32_t>(bits))));
    ++checked;
  }
  std::mt19937_64 rng(20240501);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t bits = rng();
    if (std::isnan(std::bit_cast<double>(bits))) continue;
    ASSERT_TRUE(round_trips(pg_type(oid::kFloat8), be_bytes(bits)));
    ++checked;
  }
  EXPECT_GT(checked, 290000);
}

TEST(KafkaJsonDecodeRoundTrip, NumericMatchesNumericSend) {
  expect_round_trips(pg_type(oid::kNumeric), {
                                                 "0002 0000 0000 0002 000c 1388",            // 12.50
                                                 "0002 0000 4000 0002 000c 1388",            // -12.50
                                                 "0000 0000 0000 0000",                      // 0
                                                 "0000 0000 0000 0002",                      // 0.00
                                                 "0001 ffff 4000 0003 000a",                 // -0.001
                                                 "0000 0000 c000 0000",                      // NaN
                                                 "0000 0000 d000 0020",                      // Infinity
                                                 "0000 0000 f000 0020",                      // -Infinity
                                                 "0001 0001 0000 0000 0001",                 // 10000
                                                 "0006 0002 0000 000c 0001 0929 1a85 0001 0929 1a85",
                                                 "0001 fffe 0000 0005 03e8",                 // 0.00001
                                                 "0001 fffb 0000 0014 0001",                 // 1e-20
                                                 "0006 0004 0000 0004 270f 270f 270f 270f 270f 270f",
                                                 "0001 0006 0000 0000 0001",                 // 10^24
                                                 "0001 ffff 0000 0001 03e8",                 // 0.1
                                                 "0001 0000 0000 0001 0001",                 // 1.0
                                                 "0003 0001 0000 0004 0001 0929 1a85",       // 12345.6789
                                                 "0002 0000 4000 0002 0063 26ac",            // -99.99
                                                 "0001 ffff 0000 0006 0001",                 // 0.000100
                                                 "0001 f000 0000 3fff 000a",  // 10^-16383, the largest scale
                                                 "0001 7fff 0000 0000 03e8",  // 10^131071, the largest weight
                                             });
}

TEST(KafkaJsonDecodeRoundTrip, Money) {
  expect_round_trips(pg_type(oid::kMoney),
                     {"00000000000004d2", "fffffffffffffffb", "0000000000000000", "8000000000000000",
                      "7fffffffffffffff"});
  EXPECT_EQ(tohex(from_json(oid::kMoney, R"("12.5")")), tohex(be_bytes<std::int64_t>(1250)))
      << "fewer decimals are exact";
  EXPECT_EQ(tohex(from_json(oid::kMoney, R"("-7")")), tohex(be_bytes<std::int64_t>(-700)));
}

TEST(KafkaJsonDecodeRoundTrip, TextLikeTypes) {
  const std::string awkward = "a \"quoted\"\n\\ π 😀 \t\x01";
  for (const auto t : {oid::kText, oid::kVarchar, oid::kBpchar, oid::kJson, oid::kXml})
    EXPECT_TRUE(round_trips(pg_type(t), awkward)) << t;
  EXPECT_TRUE(round_trips(pg_type(oid::kBpchar), "ab  ")) << "char(n) padding kept";
  EXPECT_TRUE(round_trips(pg_type(oid::kText), ""));
  EXPECT_TRUE(round_trips(pg_type(oid::kName), "abc"));
  EXPECT_TRUE(round_trips(pg_type(oid::kName), std::string(63, 'n')));
  EXPECT_TRUE(round_trips(pg_type(99999, -1, 'e'), "happy")) << "enum label";
  expect_round_trips(pg_type(oid::kJsonb), {"017b2261223a205b312c2022cf80225d7d", "017b7d"});
  // "char": the zero byte travels as "", others as themselves (0xc3 is a high-bit byte).
  expect_round_trips(pg_type(oid::kChar), {"00", "61", "5c", "c3"});
  EXPECT_EQ(tohex(from_json(oid::kChar, R"("\\303")")), "c3") << "PostgreSQL 15's text form of a high-bit byte";
}

TEST(KafkaJsonDecodeRoundTrip, ByteaAndUuid) {
  expect_round_trips(pg_type(oid::kBytea), {"", "00", "00ff", "00ff10", "deadbeef", "deadbeefff"});
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_TRUE(round_trips(pg_type(oid::kBytea), all));
  expect_round_trips(pg_type(oid::kUuid), {"a0eebc999c0b4ef8bb6d6bb9bd380a11", "00000000000000000000000000000000",
                                           "ffffffffffffffffffffffffffffffff"});
  EXPECT_EQ(tohex(from_json(oid::kUuid, R"("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")")),
            "a0eebc999c0b4ef8bb6d6bb9bd380a11");
}

TEST(KafkaJsonDecodeRoundTrip, DateAndTime) {
  // 4714-11-24 BC (first date), 5874897-12-31 (last), ±infinity, 1970-01-01, 2024-05-01
  expect_round_trips(pg_type(oid::kDate), {"ffda97a7", "7fda970c", "7fffffff", "80000000", "ffffd533", "000022b7"});
  // midnight, 04:05:06.789, 23:59:59.999999, 24:00:00
  expect_round_trips(pg_type(oid::kTime),
                     {"0000000000000000", "000000036c97ca88", "000000141dd75fff", "000000141dd76000"});
}

TEST(KafkaJsonDecodeRoundTrip, TimestampMicros) {
  // 1969-07-20 20:17:40.123, 1900-01-01, 2024-05-01 10:00:00.5, 4713-11-24 BC, ±infinity, and
  // µs-precise values before 1970 and before 2000.
  const std::initializer_list<std::string_view> values = {
      "fffc96188bb04178", "fff4c9ee7c0b8000", "0002ba605181a920", "fd0f9983eb0ae000", "7fffffffffffffff",
      "8000000000000000", "fffca2eaa6f0c001", "fffffffffffffffe"};
  expect_round_trips(pg_type(oid::kTimestamp), values);
  expect_round_trips(pg_type(oid::kTimestamp, 6), values);
  expect_round_trips(pg_type(oid::kTimestamp, 4), values);
}

TEST(KafkaJsonDecodeRoundTrip, TimestampMillisForTypmod0To3) {
  // PostgreSQL rounds timestamp(0..3) to whole ms, so every stored value is lossless: before 1970
  // (1969-07-20 20:17:40.123, 1969-12-31 23:59:59.999 as timestamp(3)), before 2000 (1900-01-01,
  // 1899-12-31 23:59:59 as timestamp(0)), after 2000, 4713 BC and ±infinity.
  for (int typmod = 0; typmod <= 3; ++typmod)
    expect_round_trips(pg_type(oid::kTimestamp, typmod),
                       {"fffc96188bb04178", "fffca2fec4c81c18", "fff4c9ee7c0b8000", "fff4c9ee7bfc3dc0",
                        "0002ba605181a920", "fd0f9983eb0ae000", "7fffffffffffffff", "8000000000000000"});
}

TEST(KafkaJsonDecodeRoundTrip, TimestampMillisDropSubMillisecondDigits) {
  // The lossy case: a timestamp(3) value with µs digits (PostgreSQL never stores one) travels as
  // floored ms, toward -infinity before 1970, and comes back without the µs.
  const auto ts3 = pg_type(oid::kTimestamp, 3);
  const std::string before_1970 = be_bytes<std::int64_t>(-1500 - kPgEpochMicros);  // 1969-12-31 23:59:59.9985
  EXPECT_EQ(to_json(ts3, before_1970), "-2");
  EXPECT_EQ(tohex(from_json(ts3, "-2")), tohex(be_bytes<std::int64_t>(-2000 - kPgEpochMicros)));
  const std::string after_1970 = be_bytes<std::int64_t>(1500 - kPgEpochMicros);
  EXPECT_EQ(tohex(from_json(ts3, to_json(ts3, after_1970))), tohex(be_bytes<std::int64_t>(1000 - kPgEpochMicros)));
}

TEST(KafkaJsonDecodeRoundTrip, Timestamptz) {
  // 2024-05-01 10:00:00.5 and .123456, 1969-12-31 00:00:00.000001, 0001-01-01, 1500-03-01 12:00:00.25,
  // 20000-01-01, 0044-03-15 BC, 4713-11-24 BC, ±infinity.
  expect_round_trips(pg_type(oid::kTimestampTz),
                     {"0002ba605181a920", "0002ba60517bea40", "fffca2eaa6f0c001", "ff1fe2ffc59c6000",
                      "ffc7f6413df4c090", "07e207da06c5e000", "ff1af9e8fb46d000", "fd0f9983eb0ae000",
                      "7fffffffffffffff", "8000000000000000"});
}

TEST(KafkaJsonDecodeRoundTrip, TimestamptzAcceptsOffsetsAndFractionLengths) {
  const std::string expected = tohex(unhex("0002ba60517bea40"));  // 2024-05-01 10:00:00.123456 UTC
  for (const std::string_view json : {R"("2024-05-01T10:00:00.123456Z")", R"("2024-05-01T12:00:00.123456+02:00")",
                                      R"("2024-05-01T04:30:00.123456-05:30")", R"("2024-05-01T10:00:00.123456000Z")",
                                      R"("2024-05-01T10:00:00.123456+00:00:00")"})
    EXPECT_EQ(tohex(from_json(oid::kTimestampTz, json)), expected) << json;
  const std::string half = tohex(unhex("0002ba605181a920"));  // 10:00:00.5
  for (const std::string_view json : {R"("2024-05-01T10:00:00.5Z")", R"("2024-05-01T10:00:00.50Z")",
                                      R"("2024-05-01T10:00:00.500Z")", R"("2024-05-01T10:00:00.500000Z")"})
    EXPECT_EQ(tohex(from_json(oid::kTimestampTz, json)), half) << json;
  EXPECT_EQ(tohex(from_json(oid::kTimestampTz, R"("2024-05-01T10:00:00+14:00")")),
            tohex(be_bytes<std::int64_t>(1714557600000000 - 14 * 3600000000LL - kPgEpochMicros)));
}

TEST(KafkaJsonDecodeRoundTrip, Interval) {
  expect_round_trips(pg_type(oid::kInterval),
                     {
                         "000000036c97ca88 00000003 0000000e",  // P1Y2M3DT4H5M6.789S
                         "fffffffc93683578 00000003 fffffff2",  // P-1Y-2M3DT-4H-5M-6.789S
                         "0000000000000000 00000000 00000000",  // PT0S
                         "fffffffffff85ee0 00000000 00000000",  // PT-0.5S
                         "00000053d1ac1000 00000000 00000000",  // PT100H
                         "ffffffffffffffff 00000001 00000000",  // P1DT-0.000001S
                         "0000000000000000 80000000 80000000",  // P-178956970Y-8M-2147483648D
                         "7fffffffffffffff 00000000 00000000",  // PT2562047788H54.775807S
                         "8000000000000000 00000000 00000000",  // PT-2562047788H-54.775808S
                         "0000000000000000 7fffffff 7fffffff",  // P178956970Y7M2147483647D
                         "7fffffffffffffff 7fffffff 7fffffff",  // infinity (PostgreSQL 17)
                         "8000000000000000 80000000 80000000",  // -infinity
                     });
  EXPECT_EQ(tohex(from_json(oid::kInterval, R"("PT-0S")")), tohex(unhex("0000000000000000 00000000 00000000")));
}

TEST(KafkaJsonDecodeRoundTrip, NetworkTypes) {
  expect_round_trips(pg_type(oid::kInet),
                     {"02200004c0a80105",                          // 192.168.1.5
                      "02180004c0a80105",                          // 192.168.1.5/24
                      "0200000400000000",                          // 0.0.0.0/0
                      "0380001000000000000000000000000000000001",  // ::1
                      "0340001020010db8000000000000ff0000428329",  // 2001:db8::ff00:42:8329/64
                      "0380001000000000000000000000ffff01020304"}); // ::ffff:1.2.3.4
  expect_round_trips(pg_type(oid::kCidr),
                     {"020801040a000000",                          // 10.0.0.0/8
                      "02200104c0a80105",                          // 192.168.1.5/32
                      "0320011020010db8000000000000000000000000",  // 2001:db8::/32
                      "0300011000000000000000000000000000000000"}); // ::/0
  expect_round_trips(pg_type(oid::kMacaddr), {"08002b010203", "ffffffffffff", "000000000000"});
  expect_round_trips(pg_type(oid::kMacaddr8), {"08002b0102030405", "ffffffffffffffff"});
  EXPECT_EQ(tohex(from_json(oid::kMacaddr, R"("08:00:2B:01:02:03")")), "08002b010203");
}

TEST(KafkaJsonDecodeRoundTrip, Arrays) {
  // int4[][] {{1,NULL},{3,4}}
  expect_round_trips(array_of(oid::kInt4), {"00000002 00000001 00000017 00000002 00000001 00000002 00000001 "
                                            "00000004 00000001 ffffffff 00000004 00000003 00000004 00000004",
                                            "00000000 00000000 00000017"});  // '{}'
  // text[] {'a"b', 'π', '', NULL, 'x,y'}
  expect_round_trips(array_of(oid::kText), {"00000001 00000001 00000019 00000005 00000001 00000003 612262 "
                                            "00000002 cf80 00000000 ffffffff 00000003 782c79"});
  // numeric[] {1.5, NaN, -0.0}
  expect_round_trips(array_of(oid::kNumeric),
                     {"00000001 00000000 000006a4 00000003 00000001 0000000c 0002000000000001 00011388 "
                      "00000008 00000000c0000000 00000008 0000000000000001"});
  // int2[][][] {{{1,2},{3,4}},{{5,6},{7,NULL}}}
  expect_round_trips(array_of(oid::kInt2),
                     {"00000003 00000001 00000015 00000002 00000001 00000002 00000001 00000002 00000001 "
                      "00000002 0001 00000002 0002 00000002 0003 00000002 0004 00000002 0005 00000002 0006 "
                      "00000002 0007 ffffffff"});
  auto moods = array_of(99999);
  moods.element_typtype = 'e';
  expect_round_trips(moods, {"00000001 00000000 0001869f 00000002 00000001 00000002 6f6b 00000003 736164"});
  expect_round_trips(array_of(oid::kTimestampTz),
                     {"00000001 00000000 000004a0 00000002 00000001 "
                      "00000008 0002ba605181a920 00000008 7fffffffffffffff"});
}

TEST(KafkaJsonDecodeRoundTrip, ArrayLowerBoundsAreNotCarried) {
  // '[0:1]={1,2}': the JSON has no lower bounds, so the array comes back starting at 1.
  const std::string lb0 = unhex("00000001 00000000 00000017 00000002 00000000 00000004 00000001 00000004 00000002");
  EXPECT_EQ(to_json(array_of(oid::kInt4), lb0), "[1,2]");
  EXPECT_EQ(tohex(from_json(array_of(oid::kInt4), "[1,2]")),
            tohex(unhex("00000001 00000000 00000017 00000002 00000001 00000004 00000001 00000004 00000002")));
}

// ---- rejected input -----------------------------------------------------------------------------

TEST(KafkaJsonDecodeErrors, MessagesSayWhatWasExpectedAndWhatKindWasFound) {
  const Error e = decode_error(oid::kDate, R"("abc")");
  EXPECT_EQ(e.kind(), ErrorKind::Protocol);
  EXPECT_STREQ(e.what(), "expected days since 1970-01-01 as an integer for date, got a string of 3 bytes")
      << "the value itself stays out of messages (common/error.h)";
  EXPECT_STREQ(decode_error(oid::kInt2, "70000").what(),
               "int2 value out of range: expected an integer in -32768..32767");
  EXPECT_STREQ(decode_error(oid::kBytea, R"("abc")").what(),
               "expected base64 text for bytea, got a string of 3 bytes that is not one");
}

TEST(KafkaJsonDecodeErrors, WrongJsonKind) {
  expect_rejected(oid::kInt4, {R"("42")", "42.0", "4.2e1", "true", "[]", "{}"});
  expect_rejected(oid::kBool, {"1", R"("true")"});
  expect_rejected(oid::kFloat8, {"true", R"("nan")", R"("1.5")", "[1]"});
  expect_rejected(oid::kText, {"1", "true", "[]", "{}"});
  expect_rejected(oid::kNumeric, {"12.5", "true"});
  expect_rejected(oid::kMoney, {"12.34"});
  expect_rejected(oid::kDate, {R"("2024-05-01")", "19844.0"});
  expect_rejected(oid::kTimestamp, {R"("2024-05-01T10:00:00Z")", "1.5"});
  expect_rejected(oid::kTimestampTz, {"1714557600500000"});
  expect_rejected(oid::kInterval, {"3600"});
  expect_rejected(array_of(oid::kInt4), {"1", R"("{1,2}")", R"(["1"])"});
  expect_rejected(oid::kInt4, {"null"});  // NULL columns are the caller's
}

TEST(KafkaJsonDecodeErrors, OutOfRange) {
  expect_rejected(oid::kInt2, {"70000", "-32769", "32768"});
  expect_rejected(oid::kInt4, {"2147483648", "-2147483649"});
  expect_rejected(oid::kInt8, {"9223372036854775808", "18446744073709551615"});
  expect_rejected(oid::kOid, {"-1", "4294967296"});
  expect_rejected(oid::kFloat4, {"1e39", "-1e39", "1e-50"});
  expect_rejected(oid::kDate, {"2147483646", "-2441000", "2147483648"});
  expect_rejected(oid::kTime, {"-1", "86400000001"});
  expect_rejected(pg_type(oid::kTimestamp, 3), {"9223372036854776", "-9223372036854775", "-210866803200001"});
  expect_rejected(oid::kTimestamp, {"-210866803200000001"});  // before 4713-11-24 BC
  EXPECT_NO_THROW(from_json(oid::kTimestamp, "-210866803200000000"));
  expect_rejected(oid::kMoney, {R"("92233720368547758.08")", R"("-92233720368547758.09")", R"("1.234")"});
  expect_rejected(oid::kName, {'"' + std::string(64, 'n') + '"'});
  expect_rejected(oid::kInterval, {R"("P178956971Y")", R"("P2147483648D")", R"("PT2562047789H")"});
  expect_rejected(oid::kTimestampTz, {R"("+294277-01-01T00:00:00Z")", R"("-4713-11-23T23:59:59.999999Z")"});
  // ISO year -4713 is 4714 BC: the first timestamp PostgreSQL has; -4712 is 4713 BC.
  EXPECT_EQ(tohex(from_json(oid::kTimestampTz, R"("-4713-11-24T00:00:00Z")")), "fd0f7cc1411fa000");
  EXPECT_EQ(tohex(from_json(oid::kTimestampTz, R"("-4712-11-24T00:00:00Z")")), "fd0f9983eb0ae000");
  // A numeric with more than 131072 integer digits or 16383 fraction digits.
  expect_rejected(oid::kNumeric, {'"' + std::string(131073, '9') + '"', "\"0." + std::string(16384, '1') + '"'});
}

TEST(KafkaJsonDecodeErrors, MalformedText) {
  expect_rejected(oid::kNumeric, {R"("")", R"("1e5")", R"("12.")", R"(".5")", R"("+1")", R"("1,5")", R"("inf")",
                                  R"("nan")", R"(" 1")", R"("--1")"});
  expect_rejected(oid::kBytea, {R"("abc")", R"("ab=c")", R"("3q2+7x==")", R"("3q2+7/9=")", R"("####")",
                                R"("3q2+ 7w=")", R"("=AAA")", R"("AA==AAAA")"});
  expect_rejected(oid::kUuid, {R"("a0eebc999c0b4ef8bb6d6bb9bd380a11")", R"("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g")",
                               R"("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}")"});
  expect_rejected(oid::kChar, {R"("ab")", R"("\\400x")", R"("\\80")", R"("\\400")"});
  expect_rejected(oid::kText, {R"("a\u0000b")"});
  expect_rejected(oid::kInet, {R"("1.2.3")", R"("10.0.0.0/33")", R"("::1/129")", R"("10.0.0.1/")",
                               R"("10.0.0.1/+8")", R"("host")", R"("10.0.0.1\u0000/8")"});
  expect_rejected(oid::kCidr, {R"("10.0.0.1/8")", R"("10.0.0.0")", R"("2001:db8::1/32")"});
  expect_rejected(oid::kMacaddr, {R"("08-00-2b-01-02-03")", R"("08002b010203")", R"("08:00:2b:01:02")",
                                  R"("08:00:2b:01:02:03:04:05")"});
  expect_rejected(oid::kMacaddr8, {R"("08:00:2b:01:02:03")", R"("08:00:2b:01:02:03:04:zz")"});
}

TEST(KafkaJsonDecodeErrors, MalformedIsoInstants) {
  expect_rejected(oid::kTimestampTz,
                  {R"("2024-05-01 10:00:00Z")", R"("2024-05-01T10:00:00")", R"("2024-02-30T00:00:00Z")",
                   R"("2023-02-29T00:00:00Z")", R"("2024-13-01T00:00:00Z")", R"("2024-05-01T24:00:00Z")",
                   R"("2024-05-01T10:60:00Z")", R"("2024-05-01T10:00:60Z")", R"("2024-05-01T10:00:00.Z")",
                   R"("2024-05-01T10:00:00.1234567Z")", R"("2024-05-01T10:00:00.123456001Z")",
                   R"("2024-05-01T10:00:00+2:00")", R"("2024-05-01T10:00:00+19:00")", R"("24-05-01T10:00:00Z")",
                   R"("12024-05-01T10:00:00Z")", R"("2024-05-01T10:00Z")", R"("2024-05-01T10:00:00Zjunk")",
                   R"("2024-5-01T10:00:00Z")", R"("Infinity")"});
  EXPECT_NO_THROW(from_json(oid::kTimestampTz, R"("2024-02-29T00:00:00Z")"));
}

TEST(KafkaJsonDecodeErrors, MalformedIsoDurations) {
  expect_rejected(oid::kInterval, {R"("")", R"("P")", R"("PT")", R"("P1YT")", R"("P1H")", R"("PT1Y")", R"("PT1D")",
                                   R"("P1D1Y")", R"("P1M1M")", R"("PT1S1M")", R"("P1.5D")", R"("PT1.5M")",
                                   R"("PT1.1234567S")", R"("PT1.S")", R"("P1Y2")", R"("P-Y")", R"("1 day")",
                                   R"("P1DTT1H")", R"("p1d")", R"("PT1HT1M")"});
}

TEST(KafkaJsonDecodeErrors, RaggedAndOddArrays) {
  const auto ints = array_of(oid::kInt4);
  expect_rejected(ints, {"[[1],[2,3]]", "[[1,2],[3]]", "[1,[2]]", "[[1],2]", "[[]]", "[[],[]]", "[[1],null]",
                         "[[[[[[[1]]]]]]]", "[1,{}]"});
  EXPECT_NO_THROW(from_json(ints, "[[[[[[1]]]]]]")) << "six dimensions are allowed";
  EXPECT_EQ(decode_error(ints, "[1,\"x\"]").kind(), ErrorKind::Protocol) << "elements are checked like values";
}

TEST(KafkaJsonDecodeErrors, UnsupportedTypeIsASchemaError) {
  EXPECT_EQ(decode_error(3904 /* int4range */, "\"[1,2)\"").kind(), ErrorKind::Schema);
  EXPECT_EQ(decode_error(array_of(3904), "[\"[1,2)\"]").kind(), ErrorKind::Schema);
}

TEST(KafkaJsonDecodeErrors, OutputIsUntouchedOnError) {
  rapidjson::Document doc;
  doc.Parse("[[1,2],[3]]");
  std::string out = "kept";
  EXPECT_THROW(read_json_value(array_of(oid::kInt4), doc, out), ProtocolError);
  EXPECT_EQ(out, "kept");
}

// ---- the text helpers ---------------------------------------------------------------------------

TEST(KafkaJsonText, Base64DecodeIsTheInverse) {
  std::mt19937 rng(7);
  for (std::size_t len = 0; len < 64; ++len) {
    std::string bytes;
    for (std::size_t i = 0; i < len; ++i) bytes.push_back(static_cast<char>(rng()));
    EXPECT_EQ(base64_decode(base64(bytes)), bytes) << len;
  }
  EXPECT_EQ(base64_decode(""), std::string());
  EXPECT_FALSE(base64_decode("3q2+7w="));
  EXPECT_FALSE(base64_decode("3q2-7w=="));
}

TEST(KafkaJsonText, ParseIsoInstantIsTheInverse) {
  std::mt19937_64 rng(11);
  // Anywhere from 4713 BC to 294276 AD, plus whole seconds and days.
  std::uniform_int_distribution<std::int64_t> any(-211813488000000000 + kPgEpochMicros, 9223371331199999999);
  for (int i = 0; i < 20000; ++i) {
    std::int64_t micros = any(rng);
    if (i % 3 == 1) micros -= micros % 1000000;
    if (i % 3 == 2) micros -= micros % 86400000000;
    ASSERT_EQ(parse_iso_instant(iso_instant(micros)), micros) << iso_instant(micros);
  }
  EXPECT_EQ(parse_iso_instant("0000-12-31T00:00:00Z"), -62135596800000000 - 86400000000LL);
  EXPECT_EQ(parse_iso_instant("-0001-12-31T00:00:00Z"), -62135596800000000 - 367 * 86400000000LL);
  // The int64 ends: exactly representable, one µs further is not (no wrap-around).
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max(), kMin = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(parse_iso_instant(iso_instant(kMax)), kMax) << iso_instant(kMax);
  EXPECT_EQ(parse_iso_instant(iso_instant(kMin)), kMin) << iso_instant(kMin);
  EXPECT_FALSE(parse_iso_instant("+294247-01-10T04:00:54.775808Z"));
  EXPECT_FALSE(parse_iso_instant("-290308-12-21T19:59:05.224191Z"));
  EXPECT_FALSE(parse_iso_instant("+999999-01-01T00:00:00Z")) << "beyond int64 µs";
  EXPECT_FALSE(parse_iso_instant("-999999-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace pg2ch::kafka
