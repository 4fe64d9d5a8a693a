#include "clickhouse/tab_separated.h"

#include <gtest/gtest.h>

namespace pg2ch::clickhouse {
namespace {

using Rows = std::vector<std::vector<std::string>>;

TEST(TabSeparated, RowsAndEscapes) {
  EXPECT_EQ(parse_tab_separated(""), Rows{});
  EXPECT_EQ(parse_tab_separated("a\tb\nc\td\n"), (Rows{{"a", "b"}, {"c", "d"}}));
  // What 18.16 sends for DateTime('UTC') and for names with a tab or a newline in them.
  EXPECT_EQ(parse_tab_separated("DateTime(\\'UTC\\')\tx\\ty\ta\\nb\tc\\\\d\n"),
            (Rows{{"DateTime('UTC')", "x\ty", "a\nb", "c\\d"}}));
  EXPECT_EQ(parse_tab_separated("\\N\t\n"), (Rows{{"\\N", ""}}));
}

}  // namespace
}  // namespace pg2ch::clickhouse
