// row_from_json with events of an older shape (kafka/event_row.h OlderShape): a column found by
// its old name, a column added since read as its fast default or NULL, and a column missing from an
// event of the current shape still an error.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "common/error.h"
#include "kafka/event_row.h"
#include "kafka_test_support.h"

namespace pg2ch::kafka {
namespace {

using pipeline::ValueRef;
using test::be_bytes;
using test::make_table;

constexpr std::uint32_t kInt4 = 23;

rapidjson::Document parsed(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  return d;
}

TEST(KafkaEventRow, AnOlderShapeNamesARenamedColumnByItsOldName) {
  const auto t = make_table("public", "t", {{"id", kInt4, true}, {"b2", kInt4}});
  const std::vector<std::pair<std::string, std::string>> renamed = {{"a", "b"}, {"b", "b2"}};
  const auto doc = parsed(R"({"id":1,"a":5})");
  const auto row = row_from_json(t, doc, RowPart::Full, OlderShape{.renamed = &renamed});
  ASSERT_EQ(row.values.size(), 2u);
  EXPECT_EQ(row.values[1].kind, ValueRef::Kind::Binary);
  EXPECT_EQ(row.values[1].data, be_bytes<std::int32_t>(5));
  // Its newest name wins when both are there.
  const auto both = parsed(R"({"id":1,"a":5,"b2":6})");
  EXPECT_EQ(row_from_json(t, both, RowPart::Full, OlderShape{.renamed = &renamed}).values[1].data,
            be_bytes<std::int32_t>(6));
}

TEST(KafkaEventRow, AColumnAddedSinceReadsItsFastDefaultOrNullOnlyInAnOlderEvent) {
  const auto t = make_table("public", "t", {{"id", kInt4, true}, {"d", kInt4}, {"e", kInt4}});
  const std::vector<std::pair<std::string, std::string>> missing = {{"d", be_bytes<std::int32_t>(7)}};
  const auto doc = parsed(R"({"id":1})");
  const auto row =
      row_from_json(t, doc, RowPart::Full, OlderShape{.missing = &missing, .may_lack_columns = true});
  EXPECT_EQ(row.values[1].kind, ValueRef::Kind::Binary);
  EXPECT_EQ(row.values[1].data, be_bytes<std::int32_t>(7));
  EXPECT_EQ(row.values[2].kind, ValueRef::Kind::Null);
  // An event of the current shape must carry every column.
  EXPECT_THROW(row_from_json(t, doc, RowPart::Full, OlderShape{.missing = &missing}), Error);
  // A key column is never made up.
  const auto no_key = parsed(R"({"d":1,"e":2})");
  EXPECT_THROW(row_from_json(t, no_key, RowPart::Full, OlderShape{.may_lack_columns = true}), Error);
}

TEST(KafkaEventRow, AFieldOfADroppedColumnIsNotRead) {
  const auto t = make_table("public", "t", {{"id", kInt4, true}});
  const auto doc = parsed(R"({"id":3,"gone":"x"})");
  const auto row = row_from_json(t, doc, RowPart::Full);
  ASSERT_EQ(row.values.size(), 1u);
  EXPECT_EQ(row.values[0].data, be_bytes<std::int32_t>(3));
}

}  // namespace
}  // namespace pg2ch::kafka
