#include "config/table_name.h"

#include <gtest/gtest.h>

namespace pg2ch::config {
namespace {

TEST(TableName, PlainAndWildcard) {
  EXPECT_EQ(parse_table_name("public.orders"), (TableName{"public", "orders", false}));
  EXPECT_EQ(parse_table_name("Sales.Orders"), (TableName{"Sales", "Orders", false}));  // verbatim, case kept
  EXPECT_EQ(parse_table_name("billing.*"), (TableName{"billing", "", true}));
}

TEST(TableName, QuotedPartsHoldAnything) {
  EXPECT_EQ(parse_table_name(R"(s."Order Lines")"), (TableName{"s", "Order Lines", false}));
  EXPECT_EQ(parse_table_name(R"("My.Schema".t)"), (TableName{"My.Schema", "t", false}));
  EXPECT_EQ(parse_table_name(R"(public."dot.ted")"), (TableName{"public", "dot.ted", false}));
  EXPECT_EQ(parse_table_name(R"(public."say ""hi""; --")"), (TableName{"public", "say \"hi\"; --", false}));
  EXPECT_EQ(parse_table_name(R"("a.b"."*")"), (TableName{"a.b", "*", false})) << "a quoted * is a name";
  EXPECT_EQ(parse_table_name(R"("x".*)"), (TableName{"x", "", true}));
  EXPECT_EQ(parse_table_name("public.ünïcödé"), (TableName{"public", "ünïcödé", false}));
}

TEST(TableName, WhatIsNotAName) {
  for (const char* bad : {"orders", "public.", ".orders", "public.a.b", R"(public."open)", R"(public."")",
                          R"(pub"lic.t)", "public.ord*", R"("s"x.t)", R"("s".t.u)"}) {
    EXPECT_FALSE(parse_table_name(bad)) << bad;
  }
}

TEST(TableName, OperatorsNameTablesEitherWay) {
  EXPECT_TRUE(names_table("public.orders", "public", "orders"));
  EXPECT_TRUE(names_table(R"(public."dot.ted")", "public", "dot.ted"));
  EXPECT_TRUE(names_table("public.dot.ted", "public", "dot.ted")) << "as status prints it";
  EXPECT_FALSE(names_table("public.other", "public", "orders"));
  EXPECT_FALSE(names_table("public.*", "public", "orders"));
}

}  // namespace
}  // namespace pg2ch::config
