// Reading back ClickHouse's own spelling of types, keys and engines (system.tables / columns).
#include "clickhouse/ddl_text.h"

#include <gtest/gtest.h>

namespace pg2ch::clickhouse {
namespace {

using Items = std::vector<std::string>;

TEST(DdlText, TypesCompareWithoutSpacing) {
  // pg2ch's DDL, 18.16's and newer servers' system.columns spell these differently only in spaces.
  EXPECT_EQ(normalize_type("Nullable(Decimal(10, 2))"), normalize_type("Nullable( Decimal(10,2) )"));
  EXPECT_EQ(normalize_type("DateTime64(6, 'UTC')"), "DateTime64(6,'UTC')");
  EXPECT_EQ(normalize_type("Array(Array(Nullable(Int32)))"), "Array(Array(Nullable(Int32)))");
  // Inside a literal the spaces are the value.
  EXPECT_EQ(normalize_type("DateTime('Europe/A b')"), "DateTime('Europe/A b')");
  EXPECT_EQ(normalize_type("Enum8('a b' = 1, 'c\\'d' = 2)"), "Enum8('a b'=1,'c\\'d'=2)");
  EXPECT_NE(normalize_type("Nullable(Int32)"), normalize_type("Int32"));
  EXPECT_NE(normalize_type("UInt32"), normalize_type("Int32"));
  EXPECT_NE(normalize_type("DateTime64(6)"), normalize_type("DateTime64(6, 'UTC')"));
}

TEST(DdlText, SplitsOnlyTopLevelCommas) {
  EXPECT_EQ(split_top_level(""), Items{});
  EXPECT_EQ(split_top_level("  "), Items{});
  EXPECT_EQ(split_top_level("id"), Items{"id"});
  EXPECT_EQ(split_top_level("id, `we ird`"), (Items{"id", "`we ird`"}));
  EXPECT_EQ(split_top_level("a,intHash32(b, c), `x,y`, 'p,q', [1, 2]"),
            (Items{"a", "intHash32(b, c)", "`x,y`", "'p,q'", "[1, 2]"}));
  EXPECT_EQ(split_top_level("f(unclosed, x"), Items{"f(unclosed, x"});
}

// 26.7 shows `ORDER BY (id)` as "(id)", 18.16 as "id": both are the key (id).
TEST(DdlText, KeyItemsIgnoreParenthesesAroundTheWholeKey) {
  using V = std::vector<std::string>;
  EXPECT_EQ(key_items("(id)"), V({"id"}));
  EXPECT_EQ(key_items("id"), V({"id"}));
  EXPECT_EQ(key_items("((id, b))"), V({"id", "b"}));
  EXPECT_EQ(key_items("id, b"), V({"id", "b"}));
  EXPECT_EQ(key_items("(a) + (b)"), V({"(a) + (b)"}));
  EXPECT_EQ(key_items("(`x)`)"), V({"`x)`"}));
  EXPECT_EQ(key_items(""), V({}));
}

TEST(DdlText, UnquotesIdentifiersOnly) {
  EXPECT_EQ(unquote_identifier("id"), "id");
  EXPECT_EQ(unquote_identifier(" `we ird` "), "we ird");
  EXPECT_EQ(unquote_identifier("`a\\`b`"), "a`b");
  EXPECT_EQ(unquote_identifier("\"Mixed\""), "Mixed");
  EXPECT_EQ(unquote_identifier("intHash32(v)"), "intHash32(v)");
  EXPECT_EQ(unquote_identifier("`a` + `b`"), "`a` + `b`");
}

TEST(DdlText, ShowsIdentifiersAsClickHouseDoes) {
  EXPECT_EQ(identifier_as_shown("id"), "id");
  EXPECT_EQ(identifier_as_shown("_version"), "_version");
  EXPECT_EQ(identifier_as_shown("we ird"), "`we ird`");
  EXPECT_EQ(identifier_as_shown("1st"), "`1st`");
  EXPECT_EQ(unquote_identifier(identifier_as_shown("a`b")), "a`b");
}

TEST(DdlText, EngineClauses) {
  auto e = parse_engine_clause("ReplacingMergeTree(_version) ORDER BY (id, `we ird`) SETTINGS index_granularity = 8192");
  EXPECT_EQ(e.name, "ReplacingMergeTree");
  EXPECT_EQ(e.args, Items{"_version"});
  e = parse_engine_clause("ReplacingMergeTree(_version, _deleted) PARTITION BY id % 10 ORDER BY id");
  EXPECT_EQ(e.args, (Items{"_version", "_deleted"}));
  e = parse_engine_clause("MergeTree ORDER BY id SETTINGS index_granularity = 8192");
  EXPECT_EQ(e.name, "MergeTree");
  EXPECT_TRUE(e.args.empty());
  e = parse_engine_clause("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/t', '{replica}', _version) ORDER BY id");
  EXPECT_EQ(e.args, (Items{"'/clickhouse/tables/{shard}/t'", "'{replica}'", "_version"}));
  e = parse_engine_clause("ReplacingMergeTree(dt, (id, dt), 8192, _version)");
  EXPECT_EQ(e.args, (Items{"dt", "(id, dt)", "8192", "_version"}));
  EXPECT_EQ(parse_engine_clause("Memory").name, "Memory");
}

}  // namespace
}  // namespace pg2ch::clickhouse
