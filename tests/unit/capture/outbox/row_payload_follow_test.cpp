// Which changes of a table's columns the outbox row payload follows in place.
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

TEST(RowPayloadFollow, WideningsThatReadTheSameAreFollowed) {
  EXPECT_EQ(row_payload_refusal(table(types::oid::kInt2), table(types::oid::kInt4)), std::nullopt);
  EXPECT_EQ(row_payload_refusal(table(types::oid::kVarchar), table(types::oid::kText)), std::nullopt);
  EXPECT_EQ(row_payload_refusal(table(types::oid::kText), table(types::oid::kText, "v2")), std::nullopt)
      << "a text column renamed: the triggers write it the same way";
}

TEST(RowPayloadFollow, RealToDoubleIsRefused) {
  const auto why = row_payload_refusal(table(types::oid::kFloat4), table(types::oid::kFloat8));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("column v was widened from real to double precision"), std::string::npos) << *why;
}

TEST(RowPayloadFollow, AFloatOrJsonColumnRenamedIsFollowedOneAddedIsRefused) {
  EXPECT_EQ(row_payload_refusal(table(types::oid::kFloat8), table(types::oid::kFloat8, "v2")), std::nullopt)
      << "a float column renamed: the installed triggers name it, so they take their exact fallback";
  const auto why = row_payload_refusal(table(types::oid::kText), table(types::oid::kJsonb, "j"));
  ASSERT_TRUE(why) << "a json column added in place of another: the installed triggers write it through to_jsonb()";
  EXPECT_NE(why->find("column j ("), std::string::npos) << *why;
  EXPECT_NE(why->find("was added or retyped"), std::string::npos) << *why;
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
