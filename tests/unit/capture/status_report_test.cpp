#include "capture/status_report.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <sstream>

namespace pg2ch::capture {
namespace {

StatusReport sample() {
  StatusReport r;
  r.pipeline = "shop";
  r.mode = "logical";
  r.sink = "clickhouse";
  r.state = "streaming";
  r.add("lag_bytes", std::int64_t{4096});
  r.add("slot", "pg2ch_shop active");
  r.tables.push_back({.table = "public.\"odd\"\\name", .target = "odd", .state = "ok", .source_rows = 10,
                      .target_rows = 9, .position = "", .last_error = ""});
  r.tables.push_back({.table = "public.gone", .target = "gone", .state = "target missing", .source_rows = 3,
                      .target_rows = std::nullopt, .position = "", .last_error = ""});
  r.attention.push_back("public.gone: its target gone does not exist");
  return r;
}

TEST(StatusReport, JsonKeepsTypesEscapesNamesAndSaysUnhealthy) {
  std::ostringstream out;
  print_status_json(sample(), out);
  rapidjson::Document d;
  d.Parse(out.str().c_str());
  ASSERT_FALSE(d.HasParseError()) << out.str();
  EXPECT_FALSE(d["healthy"].GetBool());
  EXPECT_EQ(d["details"]["lag_bytes"].GetInt64(), 4096);
  EXPECT_STREQ(d["details"]["slot"].GetString(), "pg2ch_shop active");
  EXPECT_STREQ(d["tables"][0]["table"].GetString(), "public.\"odd\"\\name");
  EXPECT_EQ(d["tables"][0]["target_rows"].GetInt64(), 9);
  EXPECT_TRUE(d["tables"][1]["target_rows"].IsNull());
  EXPECT_EQ(d["attention"].Size(), 1u);
}

TEST(StatusReport, TextShowsEveryTableAndWhatNeedsAttention) {
  std::ostringstream out;
  print_status_text(sample(), out);
  const std::string text = out.str();
  EXPECT_NE(text.find("pipeline shop (mode logical, sink clickhouse)"), std::string::npos) << text;
  EXPECT_NE(text.find("streaming"), std::string::npos) << text;
  EXPECT_NE(text.find("missing"), std::string::npos) << text;
  EXPECT_NE(text.find("ATTENTION: public.gone"), std::string::npos) << text;
}

}  // namespace
}  // namespace pg2ch::capture
