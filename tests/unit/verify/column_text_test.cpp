#include "verify/column_text.h"

#include <gtest/gtest.h>

#include "verify/table_compare.h"

namespace pg2ch::verify {
namespace {

pipeline::SourceColumn source(std::uint32_t oid, std::string name, std::uint32_t element = 0) {
  pipeline::SourceColumn s;
  s.name = "col";
  s.type.oid = oid;
  s.type.name = std::move(name);
  s.type.element_oid = element;
  return s;
}

pipeline::TargetColumn target(std::string clickhouse_type) {
  pipeline::TargetColumn t;
  t.name = "col";
  t.mapping.clickhouse_type = std::move(clickhouse_type);
  return t;
}

TEST(VerifyColumnText, WrappersAroundTheClickHouseTypeAreIgnored) {
  EXPECT_EQ(inner_clickhouse_type("Nullable(Decimal(10, 2))"), "Decimal(10, 2)");
  EXPECT_EQ(inner_clickhouse_type("LowCardinality(Nullable(String))"), "String");
  EXPECT_EQ(inner_clickhouse_type("DateTime64(6, 'UTC')"), "DateTime64(6, 'UTC')");
}

TEST(VerifyColumnText, EachDialectRendersTheValueItsOwnWay) {
  std::string why;
  const auto ts = column_text(source(types::oid::kTimestampTz, "timestamptz"), target("DateTime64(6, 'UTC')"), why);
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->ch, "toString(toUnixTimestamp64Micro(`col`))");
  // 18.16 keeps timestamps as Int64 microseconds.
  EXPECT_EQ(column_text(source(types::oid::kTimestampTz, "timestamptz"), target("Int64"), why)->ch, "toString(`col`)");
  const auto n = column_text(source(types::oid::kNumeric, "numeric(10,2)"), target("Nullable(Decimal(10, 2))"), why);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->pg, "trim_scale(\"col\")::text");
  // A numeric kept as its exact text (types = { col = "String" }) compares as text.
  EXPECT_EQ(column_text(source(types::oid::kNumeric, "numeric"), target("String"), why)->ch, "`col`");
}

TEST(VerifyColumnText, TypesWithoutASharedTextAreNamed) {
  std::string why;
  EXPECT_FALSE(column_text(source(types::oid::kInt4, "integer[]", types::oid::kInt4), target("Array(Int32)"), why));
  EXPECT_EQ(why, "col (integer[] as Array(Int32))");
  EXPECT_FALSE(column_text(source(types::oid::kBytea, "bytea"), target("String"), why));
  EXPECT_FALSE(column_text(source(types::oid::kInterval, "interval"), target("Int64"), why));
}

TEST(VerifyDescribeKey, NamesEachKeyColumn) {
  const std::string sep(1, kFieldSeparator);
  EXPECT_EQ(describe_key({"id"}, "42" + sep), "id=42");
  EXPECT_EQ(describe_key({"a", "b"}, "1" + sep + "x y" + sep), "a=1, b=x y");
  EXPECT_EQ(describe_key({"a", "b"}, std::string(1, kNullMark) + sep + "2" + sep), "a=NULL, b=2");
}

}  // namespace
}  // namespace pg2ch::verify
