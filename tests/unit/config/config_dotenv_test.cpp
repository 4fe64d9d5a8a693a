// The .env parser.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace pg2ch::config {
namespace {

using Vars = std::map<std::string, std::string>;

Vars parse(const std::string& text) { return parse_dotenv(text, "/srv/.env"); }

TEST(ConfigDotenv, PlainAssignmentsCommentsAndBlankLines) {
  EXPECT_EQ(parse("# comment\n\nA=1\n  B = two words  \n\t# indented comment\nexport C=3\n"),
            (Vars{{"A", "1"}, {"B", "two words"}, {"C", "3"}}));
}

TEST(ConfigDotenv, EmptyValue) { EXPECT_EQ(parse("A=\nB=''\nC=\"\"\n"), (Vars{{"A", ""}, {"B", ""}, {"C", ""}})); }

TEST(ConfigDotenv, TrailingCommentNeedsABlankBefore) {
  EXPECT_EQ(parse("A=value # note\nB=pa#ss\n"), (Vars{{"A", "value"}, {"B", "pa#ss"}}));
}

TEST(ConfigDotenv, SingleQuotesAreLiteral) {
  EXPECT_EQ(parse(R"(A='x \n "y" # z' # comment)"), (Vars{{"A", R"(x \n "y" # z)"}}));
}

TEST(ConfigDotenv, DoubleQuotesHaveEscapes) {
  EXPECT_EQ(parse(R"(A="line1\nline2 \"q\" back\\slash \t # not a comment")"),
            (Vars{{"A", "line1\nline2 \"q\" back\\slash \t # not a comment"}}));
}

TEST(ConfigDotenv, UnknownEscapeKeepsTheBackslash) {
  EXPECT_EQ(parse(R"(A="C:\data")"), (Vars{{"A", R"(C:\data)"}}));
}

TEST(ConfigDotenv, CrlfLineEndingsAndLastAssignmentWins) {
  EXPECT_EQ(parse("A=1\r\nA=2\r\nB='x'\r\n"), (Vars{{"A", "2"}, {"B", "x"}}));
}

TEST(ConfigDotenv, ExportAsAVariableName) { EXPECT_EQ(parse("export=1\n"), (Vars{{"export", "1"}})); }

struct MalformedCase {
  const char* name;
  const char* text;
  const char* location;
};

class ConfigDotenvMalformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(ConfigDotenvMalformed, ErrorNamesFileAndLineButNotTheContent) {
  auto e = testing::config_error([] { parse(GetParam().text); });
  std::string message = e.what();
  EXPECT_NE(message.find(GetParam().location), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_FALSE(e.hint().empty());
}

INSTANTIATE_TEST_SUITE_P(
    ConfigLines, ConfigDotenvMalformed,
    ::testing::Values(MalformedCase{"missing_equals", "A=1\nPG_PASSWORD hunter2\n", "/srv/.env:2"},
                      MalformedCase{"key_starts_with_digit", "1A=hunter2\n", "/srv/.env:1"},
                      MalformedCase{"open_single_quote", "A=1\n\nPG_PASSWORD='hunter2\n", "/srv/.env:3"},
                      MalformedCase{"open_double_quote", "PG_PASSWORD=\"hunter2\n", "/srv/.env:1"},
                      MalformedCase{"text_after_quote", "PG_PASSWORD=\"hunter2\" trailing\n", "/srv/.env:1"},
                      MalformedCase{"export_without_value", "export PG_PASSWORD\n", "/srv/.env:1"},
                      MalformedCase{"no_key", "=hunter2\n", "/srv/.env:1"}),
    [](const ::testing::TestParamInfo<MalformedCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace pg2ch::config
