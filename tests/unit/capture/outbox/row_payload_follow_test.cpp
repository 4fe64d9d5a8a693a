// Which changes of a table's columns the outbox row payload follows in place: every one but an
// excluded column renamed out of the exclude list (row_payload_follow.h says why).
#include "capture/outbox/row_payload_follow.h"

#include <gtest/gtest.h>

#include "types/pg_type.h"

namespace pg2ch::capture::outbox {
namespace {

// t (id int key, v <type>), both replicated.
pipeline::TableSchema table(std::uint32_t v_type, std::string v_name = "v") {
  pipeline::TableSchema t;
  t.relation_oid = 16384;
  t.source_schema = "public";
  t.source_name = "t";
  for (auto [name, oid] : {std::pair<std::string, std::uint32_t>{"id", types::oid::kInt4}, {v_name, v_type}}) {
    pipeline::SourceColumn c;
    c.name = name;
    c.type.oid = oid;
    c.declared_type_oid = oid;
    c.attnum = static_cast<int>(t.source_columns.size()) + 1;
    c.is_key = name == "id";
    c.target_index = static_cast<int>(t.target_columns.size());
    pipeline::TargetColumn tc;
    tc.name = name;
    tc.source_index = c.target_index;
    tc.is_key = c.is_key;
    t.source_columns.push_back(c);
    t.target_columns.push_back(std::move(tc));
  }
  t.key_target_indexes = {0};
  return t;
}

TEST(RowPayloadFollow, WideningsAndRenamesAreFollowed) {
  EXPECT_EQ(row_payload_refusal(table(types::oid::kInt2), table(types::oid::kInt4)), std::nullopt);
  EXPECT_EQ(row_payload_refusal(table(types::oid::kVarchar), table(types::oid::kText)), std::nullopt);
  EXPECT_EQ(row_payload_refusal(table(types::oid::kText), table(types::oid::kText, "v2")), std::nullopt);
  EXPECT_EQ(row_payload_refusal(table(types::oid::kFloat8), table(types::oid::kFloat8, "v2")), std::nullopt);
}

// Issue 12: rows the functions installed before wrote for other columns are read from the table.
TEST(RowPayloadFollow, InexactlyWrittenTypesAndTheTwoUnreadableWideningsAreFollowed) {
  EXPECT_EQ(row_payload_refusal(table(types::oid::kFloat4), table(types::oid::kFloat8)), std::nullopt);
  EXPECT_EQ(row_payload_refusal(table(types::oid::kTimestamp), table(types::oid::kTimestampTz)), std::nullopt);
  EXPECT_EQ(row_payload_refusal(table(types::oid::kInt4), table(types::oid::kFloat8)), std::nullopt);
  for (auto oid : {types::oid::kFloat4, types::oid::kFloat8, types::oid::kJson, types::oid::kJsonb,
                   types::oid::kInterval, types::oid::kMoney}) {
    auto now = table(oid, "added");
    now.source_columns[1].attnum = 3;
    EXPECT_EQ(row_payload_refusal(table(types::oid::kText), now), std::nullopt) << "type " << oid << " added";
  }
}

TEST(RowPayloadFollow, AnExcludedColumnAddedIsFollowed) {
  auto now = table(types::oid::kText, "secret2");
  now.source_columns[1].attnum = 3;
  now.source_columns[1].target_index = -1;
  now.target_columns.pop_back();
  EXPECT_EQ(row_payload_refusal(table(types::oid::kText), now), std::nullopt);
}

TEST(RowPayloadFollow, AnExcludedColumnRenamedOutOfTheExcludeListIsRefused) {
  auto was = table(types::oid::kText, "secret");
  was.source_columns[1].target_index = -1;
  was.target_columns.pop_back();
  const auto why = row_payload_refusal(was, table(types::oid::kText, "secret2"));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("column secret was renamed to secret2, which the config does not exclude"), std::string::npos)
      << *why;
}

}  // namespace
}  // namespace pg2ch::capture::outbox
