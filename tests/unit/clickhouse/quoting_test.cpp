#include <gtest/gtest.h>

#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {
namespace {

TEST(ClickHouseQuoting, IdentifierUsesBackticksAndEscapes) {
  EXPECT_EQ(quote_identifier("orders"), "`orders`");
  EXPECT_EQ(quote_identifier("we`ird"), "`we\\`ird`");
  EXPECT_EQ(quote_identifier("back\\slash"), "`back\\\\slash`");
  EXPECT_EQ(quote_identifier("it's"), "`it's`");
  EXPECT_EQ(quote_identifier(""), "``");
}

TEST(ClickHouseQuoting, StringUsesSingleQuotesAndEscapes) {
  EXPECT_EQ(quote_string("abc"), "'abc'");
  EXPECT_EQ(quote_string("it's"), "'it\\'s'");
  EXPECT_EQ(quote_string("a\\b"), "'a\\\\b'");
  EXPECT_EQ(quote_string("`x`"), "'`x`'");
  EXPECT_EQ(quote_string("\\'"), "'\\\\\\''");
}

}  // namespace
}  // namespace pg2ch::clickhouse
