#include "clickhouse/column_conversion.h"

#include <gtest/gtest.h>

namespace pg2ch::clickhouse {
namespace {

TEST(ColumnConversion, OnlyConversionsThatKeepEveryValue) {
  EXPECT_TRUE(converts_exactly("Int16", "Int32"));
  EXPECT_TRUE(converts_exactly("Int32", "Int64"));
  EXPECT_TRUE(converts_exactly("Nullable(Int16)", "Nullable(Int64)"));
  EXPECT_TRUE(converts_exactly("Float32", "Float64"));
  EXPECT_TRUE(converts_exactly("Decimal(10, 2)", "Decimal(20,2)"));
  EXPECT_TRUE(converts_exactly("Int32", "Nullable(Int32)")) << "DROP NOT NULL";
  EXPECT_TRUE(converts_exactly("String", "String"));
  EXPECT_FALSE(converts_exactly("Int64", "Int32"));
  EXPECT_FALSE(converts_exactly("Nullable(Int32)", "Int64")) << "a NULL has nowhere to go";
  EXPECT_FALSE(converts_exactly("Float64", "Float32"));
  EXPECT_FALSE(converts_exactly("Int32", "Float64"));
  EXPECT_FALSE(converts_exactly("Decimal(10, 2)", "Decimal(20, 3)"));
  EXPECT_FALSE(converts_exactly("Decimal(10, 2)", "Decimal(9, 2)"));
  EXPECT_FALSE(converts_exactly("Decimal(10, 2)", "String")) << "trailing zeros";
  EXPECT_FALSE(converts_exactly("Int32", "UInt64"));
}

}  // namespace
}  // namespace pg2ch::clickhouse
