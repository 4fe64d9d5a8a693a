#include "clickhouse/insert_summary.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace pg2ch::clickhouse {
namespace {

TEST(InsertSummary, ReadsWrittenRows) {
  EXPECT_EQ(written_rows_in_summary(R"({"read_rows":"0","read_bytes":"0","written_rows":"100","written_bytes":"900"})"),
            100u);
  EXPECT_EQ(written_rows_in_summary(R"({"written_rows":7})"), 7u);
}

TEST(InsertSummary, NothingReadableIsNoCount) {
  EXPECT_EQ(written_rows_in_summary(""), std::nullopt);
  EXPECT_EQ(written_rows_in_summary("not json"), std::nullopt);
  EXPECT_EQ(written_rows_in_summary(R"({"read_rows":"3"})"), std::nullopt);
  EXPECT_EQ(written_rows_in_summary(R"({"written_rows":"3x"})"), std::nullopt);
  EXPECT_EQ(written_rows_in_summary(R"({"written_rows":"-3"})"), std::nullopt);
}

TEST(InsertSummary, FewerRowsThanSentIsAnErrorThatNamesBoth) {
  try {
    check_rows_written("insert of 100 rows into db.t", 100, InsertResult{0}, false);
    FAIL() << "a shortfall passed";
  } catch (const Error& e) {
    EXPECT_FALSE(e.retriable());
    const std::string what = e.what();
    EXPECT_NE(what.find("0 rows written"), std::string::npos) << what;
    EXPECT_NE(what.find("sent 100"), std::string::npos) << what;
    EXPECT_NE(what.find("db.t"), std::string::npos) << what;
    EXPECT_NE(e.hint().find("input_format_allow_errors"), std::string::npos);
  }
  EXPECT_THROW(check_rows_written("x", 100, InsertResult{99}, true), Error) << "only a whole repeat writes 0";
}

TEST(InsertSummary, AllRowsMoreRowsUnknownOrARecognisedRepeatPass) {
  EXPECT_NO_THROW(check_rows_written("x", 100, InsertResult{100}, false));
  EXPECT_NO_THROW(check_rows_written("x", 100, InsertResult{250}, false));  // materialized views count too
  EXPECT_NO_THROW(check_rows_written("x", 100, InsertResult{std::nullopt}, false));
  EXPECT_NO_THROW(check_rows_written("x", 100, InsertResult{0}, true));
}

}  // namespace
}  // namespace pg2ch::clickhouse
