// PostgreSQL arrays → Array(Nullable(T)), nested Arrays for declared dimensions, and the
// malformed cases the array parser must reject without reading out of bounds.
#include <string>

#include "types_test_support.h"

namespace pg2ch::types::test {
namespace {

ColumnMapping int4_array(int ndims = 1) { return map(array_of(oid::kInt4, "integer[]", -1, ndims)); }

// Expected RowBinary below: LEB128 element count, then per element a Nullable flag (00 value,
// 01 NULL) and the element's bytes.

TEST(TypesArray, OneDimensional) {
  // array_send('{1,2,3}'::int4[]): ndim 1, no nulls, oid 23, length 3, lower bound 1, elements
  EXPECT_EQ(encode(int4_array(), "00000001 00000000 00000017 00000003 00000001"
                                 " 00000004 00000001 00000004 00000002 00000004 00000003"),
            hx("03 00 01000000 00 02000000 00 03000000"));
  // '{1,NULL,3}': has-nulls flag 1, length -1 for the NULL
  EXPECT_EQ(encode(int4_array(), "00000001 00000001 00000017 00000003 00000001"
                                 " 00000004 00000001 ffffffff 00000004 00000003"),
            hx("03 00 01000000 01 00 03000000"));
  EXPECT_EQ(encode(int4_array(), "00000001 00000001 00000017 00000001 00000001 ffffffff"), hx("01 01"));  // '{NULL}'
}

TEST(TypesArray, EmptyArrays) {
  EXPECT_EQ(encode(int4_array(), "00000000 00000000 00000017"), "00");  // '{}'
  EXPECT_EQ(encode(int4_array(2), "00000000 00000000 00000017"), "00");
  // A zero-length dimension (array_recv reads it back as '{}').
  EXPECT_EQ(encode(int4_array(), "00000001 00000000 00000017 00000000 00000001"), "00");
  EXPECT_EQ(encode(int4_array(2), "00000002 00000000 00000017 00000002 00000001 00000000 00000001"), "00");
  EXPECT_EQ(encode_default(int4_array()), "00");
}

TEST(TypesArray, LowerBoundIsDropped) {
  // '[0:1]={7,8}'
  EXPECT_EQ(encode(int4_array(), "00000001 00000000 00000017 00000002 00000000"
                                 " 00000004 00000007 00000004 00000008"),
            hx("02 00 07000000 00 08000000"));
}

TEST(TypesArray, DeclaredDimensionsGiveNestedArrays) {
  // '{{1,2,3},{4,5,6}}'::int4[] into a column declared integer[][]
  EXPECT_EQ(encode(int4_array(2), "00000002 00000000 00000017 00000002 00000001 00000003 00000001"
                                  " 00000004 00000001 00000004 00000002 00000004 00000003"
                                  " 00000004 00000004 00000004 00000005 00000004 00000006"),
            hx("02 03 00 01000000 00 02000000 00 03000000 03 00 04000000 00 05000000 00 06000000"));
  // '{{{1,2},{3,4}},{{5,6},{7,NULL}}}'::int2[] into smallint[][][]
  auto i2 = map(array_of(oid::kInt2, "smallint[]", -1, 3));
  EXPECT_EQ(i2.clickhouse_type, "Array(Array(Array(Nullable(Int16))))");
  EXPECT_EQ(encode(i2, "00000003 00000001 00000015 00000002 00000001 00000002 00000001 00000002 00000001"
                       " 00000002 0001 00000002 0002 00000002 0003 00000002 0004"
                       " 00000002 0005 00000002 0006 00000002 0007 ffffffff"),
            hx("02 02 02 00 0100 00 0200 02 00 0300 00 0400 02 02 00 0500 00 0600 02 00 0700 01"));
}

TEST(TypesArray, DimensionMismatchIsDataError) {
  // '{{1,2},{3,4}}' into a one-dimensional column
  const char* two_d = "00000002 00000000 00000017 00000002 00000001 00000002 00000001"
                      " 00000004 00000001 00000004 00000002 00000004 00000003 00000004 00000004";
  Error e = encode_error(int4_array(), two_d);
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  // The value's shape names it (it used to say "array value"), with its lower bounds.
  EXPECT_STREQ(e.what(), "array [1:2][1:2] has 2 dimension(s) but the ClickHouse column has 1");
  EXPECT_TRUE(contains(e.hint(), "integer[][]")) << e.hint();
  // and a one-dimensional value into a column declared integer[][]
  e = encode_error(int4_array(2), "00000001 00000000 00000017 00000001 00000000 00000004 00000001");
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  EXPECT_STREQ(e.what(), "array [0:0] has 1 dimension(s) but the ClickHouse column has 2");
}

TEST(TypesArray, ElementsUseTheirOwnCodec) {
  // '{a,NULL,"",héllo}'::text[]
  EXPECT_EQ(encode(map(array_of(oid::kText, "text[]")),
                   "00000001 00000001 00000019 00000004 00000001 00000001 61 ffffffff 00000000"
                   " 00000006 68c3a96c6c6f"),
            hx("04 00 0161 01 00 00 00 06 68c3a96c6c6f"));
  // '{1.5,NULL,-0.01}'::numeric(10,2)[]: the column typmod applies to the elements
  auto num = map(array_of(oid::kNumeric, "numeric(10,2)[]", 655366));
  EXPECT_EQ(num.clickhouse_type, "Array(Nullable(Decimal(10, 2)))");
  EXPECT_EQ(encode(num, "00000001 00000001 000006a4 00000003 00000001 0000000c 000200000000000200011388"
                        " ffffffff 0000000a 0001ffff400000020064"),
            hx("03 00 9600000000000000 01 00 ffffffffffffffff"));
  // '{t,f,NULL}'::bool[]
  EXPECT_EQ(encode(map(array_of(oid::kBool, "boolean[]")),
                   "00000001 00000001 00000010 00000003 00000001 00000001 01 00000001 00 ffffffff"),
            hx("03 00 01 00 00 01"));
  // '{sad,happy}'::mood[] (enum)
  EXPECT_EQ(encode(map(array_of(16394, "mood[]", -1, 1, 'e')),
                   "00000001 00000000 0000400a 00000002 00000001 00000003 736164 00000005 6861707079"),
            hx("02 00 03736164 00 056861707079"));
  // '{"{\"a\": 1}"}'::jsonb[]
  EXPECT_EQ(encode(map(array_of(oid::kJsonb, "jsonb[]")),
                   "00000001 00000000 00000eda 00000001 00000001 00000009 017b2261223a20317d"),
            hx("01 00 087b2261223a20317d"));
}

TEST(TypesArray, DomainElementOidIsAccepted) {
  // '{1,2}'::posint[] where posint is a domain over int4: the header carries the domain's oid.
  EXPECT_EQ(encode(int4_array(), "00000001 00000000 00004012 00000002 00000001"
                                 " 00000004 00000001 00000004 00000002"),
            hx("02 00 01000000 00 02000000"));
}

TEST(TypesArray, ElementErrorsPropagate) {
  // '{NaN}'::numeric[] into numeric(10,2)[]
  Error e = encode_error(map(array_of(oid::kNumeric, "numeric(10,2)[]", 655366)),
                         "00000001 00000000 000006a4 00000001 00000001 00000008 00000000c0000000");
  EXPECT_EQ(e.kind(), ErrorKind::Data);
  EXPECT_EQ(e.hint(), "map the column to String: types = { \"<column>\" = \"String\" } in the table's [[tables]] entry");
  // an int4 element of 3 bytes
  e = encode_error(int4_array(), "00000001 00000000 00000017 00000001 00000001 00000003 000001");
  EXPECT_EQ(e.kind(), ErrorKind::Protocol);
  EXPECT_STREQ(e.what(), "malformed int4 value: expected 4 bytes, got 3");
}

TEST(TypesArray, MalformedIsProtocolError) {
  const struct {
    const char* pg_hex;
    const char* message;
  } cases[] = {
      {"000000", "malformed array value: truncated at byte 0"},
      {"00000007 00000000 00000017", "malformed array value: invalid number of dimensions at byte 12"},
      {"ffffffff 00000000 00000017", "malformed array value: invalid number of dimensions at byte 12"},
      {"00000001 00000002 00000017", "malformed array value: invalid flags at byte 12"},
      {"00000001 00000000 00000017 ffffffff 00000001", "malformed array value: negative dimension length at byte 20"},
      {"00000001 00000000 00000017 00000001", "malformed array value: truncated at byte 16"},
      // claims 2^31-1 elements with 8 bytes left: rejected before looping over them
      {"00000001 00000000 00000017 7fffffff 00000001 00000004 00000001", "malformed array value: truncated at byte 20"},
      {"00000002 00000000 00000017 00010000 00000001 00010000 00000001 00000004 00000001",
       "malformed array value: truncated at byte 28"},
      {"00000001 00000000 00000017 00000001 00000001 fffffffe", "malformed array value: invalid element length at byte 24"},
      {"00000001 00000000 00000017 00000001 00000001 00000004 000000", "malformed array value: truncated at byte 24"},
      {"00000001 00000000 00000017 00000001 00000001 00000004 00000001 00",
       "malformed array value: trailing bytes at byte 28"},
      {"00000000 00000000 00000017 00", "malformed array value: trailing bytes at byte 12"},
  };
  for (const auto& c : cases) {
    const Error e = encode_error(int4_array(), c.pg_hex);
    EXPECT_EQ(e.kind(), ErrorKind::Protocol) << c.pg_hex;
    EXPECT_STREQ(e.what(), c.message) << c.pg_hex;
  }
}

}  // namespace
}  // namespace pg2ch::types::test
