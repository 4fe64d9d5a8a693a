// numeric → Decimal32/64/128/256 by integer math, the exact-text String fallback, and errors.
#include <vector>

#include "types/numeric_binary.h"
#include "types_test_support.h"

namespace pg2ch::types::test {
namespace {

// atttypmod of numeric(p,s), as pg_attribute stores it (checked against PostgreSQL 15).
std::int32_t numeric_typmod(int p, int s) { return ((p << 16) | (s & 0x7FF)) + 4; }

ColumnMapping decimal(int p, int s, const clickhouse::ServerCapabilities& caps = modern_caps()) {
  return map(scalar(oid::kNumeric, "numeric(" + std::to_string(p) + "," + std::to_string(s) + ")",
                    numeric_typmod(p, s)),
             caps);
}

TEST(TypesNumeric, TypmodDecoding) {
  EXPECT_EQ(numeric_typmod(10, 2), 655366);   // pg_attribute.atttypmod of numeric(10,2)
  EXPECT_EQ(numeric_typmod(2, -3), 133121);   // numeric(2,-3)
  EXPECT_EQ(numeric_typmod(3, 5), 196617);    // numeric(3,5)
  EXPECT_FALSE(decode_numeric_typmod(-1).has_value());
  auto t = decode_numeric_typmod(133121);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->precision, 2);
  EXPECT_EQ(t->scale, -3);
  t = decode_numeric_typmod(65536004);  // numeric(1000,0)
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->precision, 1000);
  EXPECT_EQ(t->scale, 0);
}

TEST(TypesNumeric, Decimal32) {
  // numeric(9,3) '12345.678' → 12345678
  EXPECT_EQ(encode(decimal(9, 3), "0003000100000003000109291a7c"), "4e61bc00");
  // '-12345.678' into numeric(9,4): the scale adds a digit → -123456780
  EXPECT_EQ(encode(decimal(9, 4), "0003000140000003000109291a7c"), "f432a4f8");
}

TEST(TypesNumeric, Decimal64) {
  EXPECT_EQ(encode(decimal(10, 2), "0003000100000002000109291770"), "80d6120000000000");  // 12345.60
  EXPECT_EQ(encode(decimal(10, 2), "0001ffff400000020064"), "ffffffffffffffff");          // -0.01
  EXPECT_EQ(encode(decimal(10, 2), "000200000000000200011388"), "9600000000000000");      // 1.50
  EXPECT_EQ(encode(decimal(10, 2), "0000000000000002"), "0000000000000000");              // 0.00
  EXPECT_EQ(encode(decimal(10, 2), "0003000100000002270f270f26ac"), "ffe30b5402000000");  // 99999999.99
}

TEST(TypesNumeric, Decimal128) {
  // numeric(38,0) 10^38-1, the largest value Decimal(38, 0) holds, and its negation.
  EXPECT_EQ(encode(decimal(38, 0), "000a0009000000000063270f270f270f270f270f270f270f270f270f"),
            "ffffffff3f228a097ac4865aa84c3b4b");
  EXPECT_EQ(encode(decimal(38, 0), "000a0009400000000063270f270f270f270f270f270f270f270f270f"),
            "01000000c0dd75f6853b79a557b3c4b4");
  // numeric(38,4) 1234567890123456789012345678901234.5678
  EXPECT_EQ(encode(decimal(38, 4), "000a000800000004000c0d801ed204d2162e23340d801ed204d2162e"),
            "4ef338de509049c4133302f0f6b04909");
}

TEST(TypesNumeric, Decimal256) {
  // numeric(76,6) with 70 integer digits, positive and negative.
  const char* pos = "0014001100000006000c0d801ed204d2162e23340d801ed204d2162e23340d801ed204d2162e23340d801ed204d215e0";
  const char* neg = "0014001140000006000c0d801ed204d2162e23340d801ed204d2162e23340d801ed204d2162e23340d801ed204d215e0";
  EXPECT_EQ(encode(decimal(76, 6), pos), "c0badc72915c1bf8a7d5b9076fcb464afc30d98936944103b132681d9cbdba02");
  EXPECT_EQ(encode(decimal(76, 6), neg), "4045238d6ea3e407582a46f89034b9b503cf2676c96bbefc4ecd97e2634245fd");
  EXPECT_EQ(encode_default(decimal(76, 6)), std::string(64, '0'));
}

TEST(TypesNumeric, NegativeScaleAndScaleAbovePrecision) {
  // numeric(2,-3) '47000' → Decimal(5, 0)
  EXPECT_EQ(encode(decimal(2, -3), "000200010000000000041b58"), "98b70000");
  // numeric(3,5) '0.00123' → Decimal(5, 5) = 123
  EXPECT_EQ(encode(decimal(3, 5), "0002ffff00000005000c0bb8"), "7b000000");
}

TEST(TypesNumeric, NanAndInfinityIntoDecimalAreDataErrors) {
  const struct {
    const char* pg_hex;
    const char* message;
  } cases[] = {
      {"00000000c0000000", "numeric 'NaN' cannot be stored in ClickHouse Decimal(10, 2)"},
      {"00000000d0000020", "numeric 'Infinity' cannot be stored in ClickHouse Decimal(10, 2)"},  // dscale 32 (sic)
      {"00000000f0000020", "numeric '-Infinity' cannot be stored in ClickHouse Decimal(10, 2)"},
  };
  for (const auto& c : cases) {
    const Error e = encode_error(decimal(10, 2), c.pg_hex);
    EXPECT_EQ(e.kind(), ErrorKind::Data);
    EXPECT_STREQ(e.what(), c.message);
    EXPECT_EQ(e.hint(), "map the column to String: types = { \"<column>\" = \"String\" } in the table's [[tables]] entry");
  }
}

TEST(TypesNumeric, ValuesThatWouldLoseDigitsAreDataErrors) {
  // 12345.678 does not fit numeric(4,2)'s 2 integer digits, nor numeric(9,2)'s 2 fractional ones.
  Error e = encode_error(decimal(4, 2), "0003000100000003000109291a7c");
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  // The value is named so the operator can find the row (it used to say "numeric value").
  EXPECT_TRUE(contains(e.what(), "numeric 12345.678 has more integer digits than ClickHouse Decimal(4, 2)")) << e.what();
  e = encode_error(decimal(9, 2), "0003000100000003000109291a7c");
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  EXPECT_TRUE(contains(e.what(), "numeric 12345.678 has more fractional digits than ClickHouse Decimal(9, 2)"))
      << e.what();
  EXPECT_TRUE(contains(e.hint(), "<column>")) << "the encoder names the column in the hint: " << e.hint();
  // 0.000000001 (weight -3) into scale 4: the non-zero digit lies entirely below the scale.
  e = encode_error(decimal(10, 4), "0001fffd0000000903e8");
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  EXPECT_TRUE(contains(e.what(), "numeric 0.000000001 has")) << e.what();
  // 1.23400 (dscale 5, digits 1.2340) fits scale 3: only zeros are dropped.
  EXPECT_EQ(encode(decimal(10, 3), "000200000000000500010924"), "d204000000000000");
}

TEST(TypesNumeric, TextFallbackPrintsLikeNumericOut) {
  auto text = map(scalar(oid::kNumeric, "numeric"));  // unconstrained
  EXPECT_EQ(text.clickhouse_type, "String");
  EXPECT_EQ(encode(text, "0003000140000003000109291a7c"), rb_string("-12345.678"));
  EXPECT_EQ(encode(text, "0000000000000000"), rb_string("0"));
  EXPECT_EQ(encode(text, "0000000000000002"), rb_string("0.00"));
  EXPECT_EQ(encode(text, "000200000000000500010924"), rb_string("1.23400"));
  EXPECT_EQ(encode(text, "0001ffff400000040001"), rb_string("-0.0001"));
  EXPECT_EQ(encode(text, "0001fffd0000000903e8"), rb_string("0.000000001"));
  EXPECT_EQ(encode(text, "00010005000000000001"), rb_string("100000000000000000000"));
  EXPECT_EQ(encode(text, "00010000400000001388"), rb_string("-5000"));
  EXPECT_EQ(encode(text, "00000000c0000000"), rb_string("NaN"));
  EXPECT_EQ(encode(text, "00000000d0000020"), rb_string("Infinity"));
  EXPECT_EQ(encode(text, "00000000f0000020"), rb_string("-Infinity"));
  EXPECT_EQ(encode(text,
                   "0014001100000006000c0d801ed204d2162e23340d801ed204d2162e23340d801ed204d2162e23340d801ed204d215e0"),
            rb_string("1234567890123456789012345678901234567890123456789012345678901234567890.123456"));
  EXPECT_EQ(encode_default(text), "00");
}

TEST(TypesNumeric, MalformedIsProtocolError) {
  const struct {
    const char* pg_hex;
    const char* message;
  } cases[] = {
      {"00010000000000002710", "malformed numeric value: digit out of range at byte 8"},
      {"0001000012340000000a", "malformed numeric value: invalid sign at byte 4"},
      {"0002000000000000000a", "malformed numeric value: truncated at byte 8"},
      {"0001000000000000000a00", "malformed numeric value: trailing bytes at byte 10"},
      {"ffff000000000000", "malformed numeric value: negative digit count at byte 0"},
      {"000000000000c000", "malformed numeric value: invalid display scale at byte 6"},
      {"000100", "malformed numeric value: truncated at byte 2"},
  };
  std::vector<ColumnMapping> codecs;
  codecs.push_back(decimal(10, 2));
  codecs.push_back(map(scalar(oid::kNumeric, "numeric")));
  for (const auto& c : cases) {
    for (const auto& m : codecs) {
      const Error e = encode_error(m, c.pg_hex);
      EXPECT_EQ(e.kind(), ErrorKind::Protocol) << c.pg_hex;
      EXPECT_STREQ(e.what(), c.message);
    }
  }
}

}  // namespace
}  // namespace pg2ch::types::test
