// int2/int4/int8/oid/float4/float8/bool/uuid: byte order, exact float bits, length checks.
#include "types_test_support.h"

namespace pg2ch::types::test {
namespace {

TEST(TypesScalar, IntegersAreByteSwapped) {
  auto i2 = map(scalar(oid::kInt2, "smallint"));
  EXPECT_EQ(encode(i2, "0102"), "0201");
  EXPECT_EQ(encode(i2, "8000"), "0080");  // -32768
  EXPECT_EQ(encode(i2, "ffff"), "ffff");  // -1
  auto i4 = map(scalar(oid::kInt4, "integer"));
  EXPECT_EQ(encode(i4, "01020304"), "04030201");
  EXPECT_EQ(encode(i4, "80000000"), "00000080");
  auto i8 = map(scalar(oid::kInt8, "bigint"));
  EXPECT_EQ(encode(i8, "0102030405060708"), "0807060504030201");
  EXPECT_EQ(encode(i8, "7fffffffffffffff"), "ffffffffffffff7f");
  auto o = map(scalar(oid::kOid, "oid"));
  EXPECT_EQ(encode(o, "ffffffff"), "ffffffff");  // 4294967295 stays unsigned
  EXPECT_EQ(encode(o, "01020304"), "04030201");
}

TEST(TypesScalar, FloatsKeepExactBits) {
  auto f4 = map(scalar(oid::kFloat4, "real"));
  EXPECT_EQ(encode(f4, "7fc00000"), "0000c07f");  // NaN
  EXPECT_EQ(encode(f4, "ff800000"), "000080ff");  // -Infinity
  EXPECT_EQ(encode(f4, "80000000"), "00000080");  // -0
  EXPECT_EQ(encode(f4, "3fc00000"), "0000c03f");  // 1.5
  EXPECT_EQ(encode(f4, "00000001"), "01000000");  // 1e-45 (denormal)
  auto f8 = map(scalar(oid::kFloat8, "double precision"));
  EXPECT_EQ(encode(f8, "7ff8000000000000"), "000000000000f87f");  // NaN
  EXPECT_EQ(encode(f8, "7ff0000000000000"), "000000000000f07f");  // Infinity
  EXPECT_EQ(encode(f8, "3fb999999999999a"), "9a9999999999b93f");  // 0.1
  EXPECT_EQ(encode(f8, "0000000000000001"), "0100000000000000");  // 5e-324
}

TEST(TypesScalar, BoolIsZeroOrOne) {
  auto b = map(scalar(oid::kBool, "boolean"));
  EXPECT_EQ(encode(b, "01"), "01");
  EXPECT_EQ(encode(b, "00"), "00");
  EXPECT_EQ(encode(b, "02"), "01");  // boolrecv: any non-zero byte is true
  EXPECT_EQ(encode(map(scalar(oid::kBool, "boolean"), old_caps()), "01"), "01");  // UInt8 on 18.16
}

TEST(TypesScalar, UuidBecomesTwoLittleEndianHalves) {
  auto u = map(scalar(oid::kUuid, "uuid"));
  // 123e4567-e89b-12d3-a456-426614174000 (read back as the same text from ClickHouse 18.16)
  EXPECT_EQ(encode(u, "123e4567e89b12d3a456426614174000"), "d3129be867453e1200401714664256a4");
  EXPECT_EQ(encode_default(u), std::string(32, '0'));
}

TEST(TypesScalar, DefaultsAreZero) {
  EXPECT_EQ(encode_default(map(scalar(oid::kInt2, "smallint"))), "0000");
  EXPECT_EQ(encode_default(map(scalar(oid::kInt4, "integer"))), "00000000");
  EXPECT_EQ(encode_default(map(scalar(oid::kInt8, "bigint"))), "0000000000000000");
  EXPECT_EQ(encode_default(map(scalar(oid::kFloat8, "double precision"))), "0000000000000000");
  EXPECT_EQ(encode_default(map(scalar(oid::kBool, "boolean"))), "00");
}

TEST(TypesScalar, WrongLengthIsProtocolError) {
  struct Case {
    std::uint32_t type_oid;
    const char* pg_hex;
    const char* message;
  };
  const Case cases[] = {
      {oid::kInt2, "010203", "malformed int2 value: expected 2 bytes, got 3"},
      {oid::kInt4, "010203", "malformed int4 value: expected 4 bytes, got 3"},
      {oid::kInt8, "01020304", "malformed int8 value: expected 8 bytes, got 4"},
      {oid::kOid, "", "malformed oid value: expected 4 bytes, got 0"},
      {oid::kFloat4, "0000000000000000", "malformed float4 value: expected 4 bytes, got 8"},
      {oid::kFloat8, "00000000", "malformed float8 value: expected 8 bytes, got 4"},
      {oid::kBool, "0101", "malformed bool value: expected 1 bytes, got 2"},
      {oid::kUuid, "123e4567e89b12d3a4564266141740", "malformed uuid value: expected 16 bytes, got 15"},
  };
  for (const auto& c : cases) {
    const Error e = encode_error(map(scalar(c.type_oid, "x")), c.pg_hex);
    EXPECT_EQ(e.kind(), ErrorKind::Protocol) << c.message;
    EXPECT_STREQ(e.what(), c.message);
  }
}

TEST(TypesScalar, ErrorWritesNothingForFixedWidth) {
  auto i4 = map(scalar(oid::kInt4, "integer"));
  ByteBuffer buf;
  clickhouse::RowBinaryWriter w(buf);
  EXPECT_THROW(i4.codec->encode_binary(unhex("0102"), w), ProtocolError);
  EXPECT_EQ(buf.size(), 0u);
}

}  // namespace
}  // namespace pg2ch::types::test
