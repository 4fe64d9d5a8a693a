// logical.on_* = "ignore" puts the recorded changes on a table's schema as the catalog describes
// it, so the schema fits the target that did not follow them (capture/logical/ignored_changes.h).
#include "capture/logical/ignored_changes.h"

#include <gtest/gtest.h>

#include "clickhouse/server_capabilities.h"
#include "common/byte_buffer.h"
#include "common/error.h"
#include "types/pg_type.h"
#include "types/value_codec.h"

namespace pg2ch::capture::logical {
namespace {

// id (key), v, extra: every column replicated, as describe_table makes them.
pipeline::TableSchema described(std::uint32_t v_oid) {
  const auto caps = clickhouse::ServerCapabilities::newest();
  pipeline::TableSchema t;
  t.source_schema = "public";
  t.source_name = "t";
  t.target_name = "t";
  const std::pair<const char*, std::uint32_t> cols[] = {{"id", types::oid::kInt4}, {"v", v_oid}, {"extra", types::oid::kInt4}};
  for (const auto& [name, oid] : cols) {
    pipeline::SourceColumn c;
    c.name = name;
    c.type.oid = oid;
    c.type.name = "some type";
    c.declared_type_oid = oid;
    c.is_key = t.source_columns.empty();
    c.target_index = static_cast<int>(t.target_columns.size());
    pipeline::TargetColumn tc;
    tc.name = name;
    tc.source_index = static_cast<int>(t.source_columns.size());
    tc.is_key = c.is_key;
    tc.mapping = types::map_column(c.type, c.is_key, caps, "public.t", name);
    t.source_columns.push_back(c);
    t.target_columns.push_back(std::move(tc));
  }
  t.key_target_indexes = {0};
  return t;
}

std::vector<std::string> target_names(const pipeline::TableSchema& t) {
  std::vector<std::string> out;
  for (const auto& c : t.target_columns) out.push_back(c.name);
  return out;
}

TEST(IgnoredChanges, AnAddedColumnIsLeftOutAndTheOthersKeepTheirPlaces) {
  auto t = described(types::oid::kInt4);
  apply_ignored(t, {{"added", "v", ""}}, clickhouse::ServerCapabilities::newest());
  EXPECT_EQ(target_names(t), (std::vector<std::string>{"id", "extra"}));
  EXPECT_EQ(t.source_columns[1].target_index, -1);
  EXPECT_EQ(t.source_columns[2].target_index, 1);
  EXPECT_EQ(t.target_columns[1].source_index, 2);
  EXPECT_EQ(t.key_target_indexes, (std::vector<int>{0}));
}

TEST(IgnoredChanges, ARenamedColumnKeepsItsTargetNameAndGoneColumnsAreNoOps) {
  auto t = described(types::oid::kInt4);
  apply_ignored(t, {{"renamed", "v", "old_v"}, {"renamed", "gone", "x"}, {"added", "gone", ""}},
                clickhouse::ServerCapabilities::newest());
  EXPECT_EQ(target_names(t), (std::vector<std::string>{"id", "old_v", "extra"}));
  EXPECT_EQ(t.source_columns[1].name, "v");
}

TEST(IgnoredChanges, ADroppedNotNullKeepsTheTargetColumnNonNullable) {
  auto t = described(types::oid::kInt4);
  ASSERT_EQ(t.target_columns[1].mapping.clickhouse_type, "Nullable(Int32)");
  apply_ignored(t, {{"not_null", "v", ""}}, clickhouse::ServerCapabilities::newest());
  EXPECT_EQ(t.target_columns[1].mapping.clickhouse_type, "Int32");
  EXPECT_FALSE(t.target_columns[1].mapping.nullable);
  EXPECT_TRUE(t.source_columns[1].not_null) << "as when the target was made: the digests stay";
}

TEST(IgnoredChanges, AWidenedColumnKeepsItsTargetTypeAndNarrowsItsValues) {
  auto t = described(types::oid::kInt8);  // v was integer, is bigint now
  apply_ignored(t, {{"widened", "v", kept_type_detail(types::oid::kInt4, -1)}},
                clickhouse::ServerCapabilities::newest());
  EXPECT_EQ(t.target_columns[1].mapping.clickhouse_type, "Nullable(Int32)");
  ByteBuffer out;
  clickhouse::RowBinaryWriter w(out);
  t.target_columns[1].mapping.codec->encode_binary(std::string("\0\0\0\0\0\0\0\x07", 8), w);
  EXPECT_EQ(out.view(), std::string("\x07\0\0\0", 4)) << "a bigint 7 written as Int32";
  EXPECT_THROW(t.target_columns[1].mapping.codec->encode_binary(std::string("\0\0\0\x01\0\0\0\0", 8), w), Error);
}

}  // namespace
}  // namespace pg2ch::capture::logical
