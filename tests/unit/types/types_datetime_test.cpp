// date, timestamp, timestamptz, time: epoch shift 2000 → 1970, per-version ranges, infinities.
#include "types_test_support.h"

namespace pg2ch::types::test {
namespace {

TEST(TypesDate, Date32OnModernServers) {
  auto d = map(scalar(oid::kDate, "date"));
  EXPECT_EQ(encode(d, "00002279"), "464d0000");  // 2024-02-29 = day 19782
  EXPECT_EQ(encode(d, "ffffd533"), "00000000");  // 1970-01-01
  EXPECT_EQ(encode(d, "ffff7154"), "219cffff");  // 1900-01-01 = day -25567, the first Date32 day
  EXPECT_EQ(encode(d, "0001ac04"), "d1d60100");  // 2299-12-31 = day 120529, the last
  EXPECT_EQ(encode_default(d), "00000000");
}

TEST(TypesDate, DateOn1816) {
  auto d = map(scalar(oid::kDate, "date"), old_caps());
  EXPECT_EQ(encode(d, "00002279"), "464d");  // 2024-02-29
  EXPECT_EQ(encode(d, "ffffd533"), "0000");  // 1970-01-01 (18.16 prints day 0 as 0000-00-00)
  EXPECT_EQ(encode(d, "00009761"), "2ec2");  // 2106-02-07 = day 49710, the last one 18.16 shows right
  EXPECT_EQ(encode_default(d), "0000");
}

TEST(TypesDate, OutOfRangeIsDataError) {
  // 2106-02-08 on 18.16 (it would read back as 1970-01-01), 1969-12-31 on Date, 1899-12-31 and
  // 2300-01-01 on Date32.
  Error e = encode_error(map(scalar(oid::kDate, "date"), old_caps()), "00009762");
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  EXPECT_STREQ(e.what(), "date 2106-02-08 is outside the range of ClickHouse Date (1970-01-01..2106-02-07)");
  e = encode_error(map(scalar(oid::kDate, "date"), old_caps()), "ffffd532");
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  e = encode_error(map(scalar(oid::kDate, "date")), "ffff7153");
  EXPECT_STREQ(e.what(), "date 1899-12-31 is outside the range of ClickHouse Date32 (1900-01-01..2299-12-31)");
  e = encode_error(map(scalar(oid::kDate, "date")), "0001ac05");
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  // PostgreSQL's extremes must not overflow the shift: 5874897-12-31 and 4713-01-01 BC.
  EXPECT_EQ(encode_error(map(scalar(oid::kDate, "date")), "7fda970c").kind(), ErrorKind::Data);
  EXPECT_EQ(encode_error(map(scalar(oid::kDate, "date")), "ffda97cd").kind(), ErrorKind::Data);
}

TEST(TypesDate, RangesFollowTheServerVersion) {
  // 21.8: no Date32 yet, but Date already reaches 2149-06-06 (day 65535).
  EXPECT_EQ(encode(map(scalar(oid::kDate, "date"), caps_for("21.8.15")), "0000d532"), "ffff");
  // 22.3: Date32, but still 1925..2282.
  EXPECT_EQ(encode_error(map(scalar(oid::kDate, "date"), caps_for("22.3.1")), "ffff7154").kind(), ErrorKind::Data);
}

TEST(TypesDate, InfinityIsDataError) {
  for (const auto& [hex, text] : {std::pair{"7fffffff", "'infinity'"}, std::pair{"80000000", "'-infinity'"}}) {
    const Error e = encode_error(map(scalar(oid::kDate, "date")), hex);
    EXPECT_EQ(e.kind(), ErrorKind::Data);
    EXPECT_EQ(std::string(e.what()), std::string("date ") + text + " cannot be stored in ClickHouse Date32");
    EXPECT_TRUE(contains(e.hint(), "exclude = [\"<column>\"]")) << e.hint();
  }
}

TEST(TypesDate, WrongLengthIsProtocolError) {
  EXPECT_EQ(encode_error(map(scalar(oid::kDate, "date")), "002279").kind(), ErrorKind::Protocol);
}

TEST(TypesTimestamp, DateTime64MicrosecondsSince1970) {
  for (std::uint32_t type : {oid::kTimestamp, oid::kTimestampTz}) {
    auto ts = map(scalar(type, "timestamp"));
    EXPECT_EQ(encode(ts, "fffca2fec4c82000"), "0000000000000000");  // 1970-01-01 00:00:00
    EXPECT_EQ(encode(ts, "fffca2fec4c81fff"), "ffffffffffffffff");  // 1969-12-31 23:59:59.999999
    EXPECT_EQ(encode(ts, "fff4c9ee7c0b8000"), "006043b7ef26f8ff");  // 1900-01-01: first DateTime64 µs
    EXPECT_EQ(encode(ts, "0021a248a9b4dfff"), "ffbfece449ff2400");  // 2299-12-31 23:59:59.999999: last
    EXPECT_EQ(encode_default(ts), "0000000000000000");
  }
  // timestamp '2024-02-29 12:34:56.789012' = 1709210096789012 µs
  EXPECT_EQ(encode(map(scalar(oid::kTimestamp, "timestamp")), "0002b58341728614"), "1466aa7c84120600");
  // timestamptz '2024-02-29 12:34:56.789012+01' = 1709206496789012 µs
  EXPECT_EQ(encode(map(scalar(oid::kTimestampTz, "timestamptz")), "0002b5826adee214"), "14c216a683120600");
}

TEST(TypesTimestamp, Int64FallbackOn1816) {
  auto ts = map(scalar(oid::kTimestamp, "timestamp"), old_caps());
  EXPECT_EQ(encode(ts, "0002b58341728614"), "1466aa7c84120600");  // same bits as DateTime64(6)
  // 4713-01-01 00:00:00 BC: no range limit besides Int64 itself.
  EXPECT_EQ(encode(ts, "fd0f7fbdaf17e000"), "00c04feabedc12fd");
  // 294276-12-31 23:59:59.999999 overflows Int64 once shifted to 1970.
  const Error e = encode_error(ts, "7fffff5bb3b29fff");
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  EXPECT_TRUE(contains(e.what(), "a timestamp after the year 294000 is outside the range of ClickHouse Int64")) << e.what();
}

TEST(TypesTimestamp, OutOfRangeAndInfinityAreDataErrors) {
  auto ts = map(scalar(oid::kTimestampTz, "timestamptz"));
  Error e = encode_error(ts, "0021a248a9b4e000");  // 2300-01-01
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  EXPECT_STREQ(e.what(),
               "timestamp 2300-01-01T00:00:00Z is outside the range of ClickHouse DateTime64 (1900-01-01 "
               "00:00:00..2299-12-31 23:59:59.999999)");
  // 22.3 still had the 1925 lower bound.
  EXPECT_EQ(encode_error(map(scalar(oid::kTimestamp, "timestamp"), caps_for("22.3.1")), "fff4c9ee7c0b8000").kind(),
            ErrorKind::Data);
  for (const auto& [hex, text] :
       {std::pair{"7fffffffffffffff", "timestamp 'infinity'"}, std::pair{"8000000000000000", "timestamp '-infinity'"}}) {
    for (const auto& caps : {old_caps(), modern_caps()}) {
      e = encode_error(map(scalar(oid::kTimestamp, "timestamp"), caps), hex);
      EXPECT_EQ(e.kind(), ErrorKind::Data);
      EXPECT_TRUE(contains(e.what(), std::string(text) + " cannot be stored")) << e.what();
    }
  }
  EXPECT_EQ(encode_error(ts, "00000000").kind(), ErrorKind::Protocol);
}

TEST(TypesTime, Int64MicrosecondsSinceMidnight) {
  for (const auto& caps : {old_caps(), modern_caps()}) {
    auto t = map(scalar(oid::kTime, "time"), caps);
    EXPECT_EQ(t.clickhouse_type, "Int64");
    EXPECT_EQ(encode(t, "0000000a8be62614"), "1426e68b0a000000");  // 12:34:56.789012
    EXPECT_EQ(encode(t, "000000141dd76000"), "0060d71d14000000");  // 24:00:00
    EXPECT_EQ(encode_error(t, "0000000a8be626").kind(), ErrorKind::Protocol);
  }
}

}  // namespace
}  // namespace pg2ch::types::test
