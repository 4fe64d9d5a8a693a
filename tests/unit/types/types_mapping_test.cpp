// map_column: the ClickHouse DDL type per PostgreSQL type on 18.16 and on a modern server,
// Nullable/Array wrapping, fallback notes, and the unsupported-type error.
#include "types_test_support.h"

namespace pg2ch::types::test {
namespace {

struct Expected {
  PgTypeDesc type;
  const char* old_type;     // ClickHouse 18.16
  const char* modern_type;  // ClickHouse 24.3
};

TEST(TypesMapping, DdlTypeOldAndModern) {
  const Expected cases[] = {
      {scalar(oid::kInt2, "smallint"), "Int16", "Int16"},
      {scalar(oid::kInt4, "integer"), "Int32", "Int32"},
      {scalar(oid::kInt8, "bigint"), "Int64", "Int64"},
      {scalar(oid::kOid, "oid"), "UInt32", "UInt32"},
      {scalar(oid::kFloat4, "real"), "Float32", "Float32"},
      {scalar(oid::kFloat8, "double precision"), "Float64", "Float64"},
      {scalar(oid::kNumeric, "numeric(9,3)", 589831), "Decimal(9, 3)", "Decimal(9, 3)"},
      {scalar(oid::kNumeric, "numeric(10,2)", 655366), "Decimal(10, 2)", "Decimal(10, 2)"},
      {scalar(oid::kNumeric, "numeric(38,4)", (38 << 16 | 4) + 4), "Decimal(38, 4)", "Decimal(38, 4)"},
      {scalar(oid::kNumeric, "numeric(50,2)", (50 << 16 | 2) + 4), "String", "Decimal(50, 2)"},
      {scalar(oid::kNumeric, "numeric(76,0)", (76 << 16) + 4), "String", "Decimal(76, 0)"},
      {scalar(oid::kNumeric, "numeric(77,0)", (77 << 16) + 4), "String", "String"},
      {scalar(oid::kNumeric, "numeric(1000,0)", 65536004), "String", "String"},
      {scalar(oid::kNumeric, "numeric"), "String", "String"},
      {scalar(oid::kNumeric, "numeric(2,-3)", 133121), "Decimal(5, 0)", "Decimal(5, 0)"},
      {scalar(oid::kNumeric, "numeric(3,5)", 196617), "Decimal(5, 5)", "Decimal(5, 5)"},
      {scalar(oid::kText, "text"), "String", "String"},
      {scalar(oid::kVarchar, "character varying(5)", 9), "String", "String"},
      {scalar(oid::kBpchar, "character(4)", 8), "String", "String"},
      {scalar(oid::kName, "name"), "String", "String"},
      {scalar(oid::kChar, "\"char\""), "String", "String"},
      {scalar(oid::kBool, "boolean"), "UInt8", "Bool"},
      {scalar(oid::kDate, "date"), "Date", "Date32"},
      {scalar(oid::kTimestamp, "timestamp without time zone", 6), "Int64", "DateTime64(6, 'UTC')"},
      {scalar(oid::kTimestampTz, "timestamp with time zone"), "Int64", "DateTime64(6, 'UTC')"},
      {scalar(oid::kTime, "time without time zone"), "Int64", "Int64"},
      {scalar(oid::kUuid, "uuid"), "UUID", "UUID"},
      {scalar(oid::kJson, "json"), "String", "String"},
      {scalar(oid::kJsonb, "jsonb"), "String", "String"},
      {scalar(oid::kXml, "xml"), "String", "String"},
      {scalar(oid::kBytea, "bytea"), "String", "String"},
      {scalar(16394, "mood", -1, 'e'), "String", "String"},
      {scalar(oid::kInterval, "interval"), "String", "String"},
      {scalar(oid::kInet, "inet"), "String", "String"},
      {scalar(oid::kCidr, "cidr"), "String", "String"},
      {scalar(oid::kMacaddr, "macaddr"), "String", "String"},
      {scalar(oid::kMacaddr8, "macaddr8"), "String", "String"},
      {scalar(oid::kMoney, "money"), "Int64", "Int64"},
      {array_of(oid::kInt4, "integer[]"), "Array(Nullable(Int32))", "Array(Nullable(Int32))"},
      {array_of(oid::kBool, "boolean[]"), "Array(Nullable(UInt8))", "Array(Nullable(Bool))"},
      {array_of(oid::kNumeric, "numeric(10,2)[]", 655366), "Array(Nullable(Decimal(10, 2)))",
       "Array(Nullable(Decimal(10, 2)))"},
      {array_of(oid::kNumeric, "numeric[]"), "Array(Nullable(String))", "Array(Nullable(String))"},
      {array_of(oid::kTimestampTz, "timestamp with time zone[]"), "Array(Nullable(Int64))",
       "Array(Nullable(DateTime64(6, 'UTC')))"},
      {array_of(oid::kDate, "date[]"), "Array(Nullable(Date))", "Array(Nullable(Date32))"},
      {array_of(16394, "mood[]", -1, 1, 'e'), "Array(Nullable(String))", "Array(Nullable(String))"},
      {array_of(oid::kText, "text[]", -1, 0), "Array(Nullable(String))", "Array(Nullable(String))"},
      {array_of(oid::kInt4, "integer[]", -1, 2), "Array(Array(Nullable(Int32)))", "Array(Array(Nullable(Int32)))"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(map(c.type, old_caps()).clickhouse_type, c.old_type) << c.type.name;
    EXPECT_EQ(map(c.type, modern_caps()).clickhouse_type, c.modern_type) << c.type.name;
  }
}

TEST(TypesMapping, NullableUnlessNotNull) {
  auto m = map(scalar(oid::kInt4, "integer"), modern_caps(), /*not_null=*/false);
  EXPECT_EQ(m.clickhouse_type, "Nullable(Int32)");
  EXPECT_TRUE(m.nullable);
  EXPECT_FALSE(m.null_as_default);
  m = map(scalar(oid::kNumeric, "numeric"), old_caps(), false);
  EXPECT_EQ(m.clickhouse_type, "Nullable(String)");
  m = map(scalar(oid::kInt4, "integer"), modern_caps(), /*not_null=*/true);
  EXPECT_EQ(m.clickhouse_type, "Int32");
  EXPECT_FALSE(m.nullable);
}

TEST(TypesMapping, NullableArrayBecomesEmptyArray) {
  // ClickHouse rejects Nullable(Array(...)) on every version.
  auto m = map(array_of(oid::kInt4, "integer[]"), modern_caps(), /*not_null=*/false);
  EXPECT_EQ(m.clickhouse_type, "Array(Nullable(Int32))");
  EXPECT_FALSE(m.nullable);
  EXPECT_TRUE(m.null_as_default);
  EXPECT_TRUE(contains(m.note, "a NULL array is stored as []")) << m.note;
  EXPECT_EQ(encode_default(m), "00");
  m = map(array_of(oid::kInt4, "integer[]"), modern_caps(), /*not_null=*/true);
  EXPECT_FALSE(m.null_as_default);
  EXPECT_TRUE(m.note.empty()) << m.note;
}

TEST(TypesMapping, FallbacksCarryANote) {
  EXPECT_TRUE(map(scalar(oid::kInt4, "integer")).note.empty());
  EXPECT_TRUE(map(scalar(oid::kNumeric, "numeric(10,2)", 655366)).note.empty());
  EXPECT_TRUE(map(scalar(oid::kDate, "date")).note.empty());
  EXPECT_TRUE(map(scalar(oid::kTimestampTz, "timestamptz")).note.empty());

  EXPECT_TRUE(contains(map(scalar(oid::kNumeric, "numeric")).note, "exact decimal text"));
  EXPECT_TRUE(contains(map(scalar(oid::kNumeric, "numeric(50,2)", (50 << 16 | 2) + 4), old_caps()).note,
                       "exceeds the 38-digit Decimal"));
  EXPECT_TRUE(contains(map(scalar(oid::kNumeric, "numeric(2,-3)", 133121)).note, "stored as Decimal(5, 0)"));
  EXPECT_TRUE(contains(map(scalar(oid::kBool, "boolean"), old_caps()).note, "UInt8"));
  EXPECT_TRUE(contains(map(scalar(oid::kDate, "date"), old_caps()).note, "1970-01-01..2106-02-07"));
  EXPECT_TRUE(contains(map(scalar(oid::kTimestamp, "timestamp"), old_caps()).note,
                       "Int64 microseconds since 1970-01-01 00:00:00 UTC"));
  EXPECT_TRUE(contains(map(scalar(oid::kTime, "time")).note, "microseconds since midnight"));
  EXPECT_TRUE(contains(map(scalar(oid::kInterval, "interval")).note, "ISO 8601"));
  // An array's note includes its element's.
  EXPECT_TRUE(contains(map(array_of(oid::kBool, "boolean[]"), old_caps()).note, "UInt8"));
}

TEST(TypesMapping, UnsupportedTypeNamesColumnAndFix) {
  const PgTypeDesc unsupported[] = {
      scalar(3908, "tsrange", -1, 'r'),
      scalar(16400, "public.address", -1, 'c'),
      scalar(600, "point"),
      scalar(1266, "time with time zone"),
      array_of(3908, "tsrange[]", -1, 1, 'r'),
      array_of(600, "point[]"),
      array_of(oid::kInt4, "integer[]", -1, 7),  // attndims beyond PostgreSQL's 6
  };
  for (const auto& type : unsupported) {
    for (const auto& caps : {old_caps(), modern_caps()}) {
      try {
        map_column(type, false, caps, "public.orders", "shipping");
        ADD_FAILURE() << type.name << " was mapped";
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Schema);
        EXPECT_EQ(std::string(e.what()),
                  "column public.orders.shipping has type " + type.name + ", which pg2ch cannot replicate to ClickHouse");
        EXPECT_EQ(e.hint(), "exclude the column with `exclude = [\"shipping\"]` in the table's config");
      }
    }
  }
}

}  // namespace
}  // namespace pg2ch::types::test
