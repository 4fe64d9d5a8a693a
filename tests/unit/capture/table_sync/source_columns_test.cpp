// The source columns a table's state records (capture/table_sync/source_columns.h).
#include "capture/table_sync/source_columns.h"

#include <gtest/gtest.h>

namespace pg2ch::capture::table_sync {
namespace {

TEST(SourceColumns, RoundTripsAnyNameAndEveryField) {
  pipeline::TableSchema t;
  t.relfilenode = 16390;
  pipeline::SourceColumn id;
  id.name = "id";
  id.attnum = 1;
  id.declared_type_oid = 23;
  id.not_null = true;
  id.is_key = true;
  pipeline::SourceColumn odd;
  odd.name = "a;b,c:1";
  odd.attnum = 4;
  odd.declared_type_oid = 1043;
  odd.declared_typmod = 14;
  t.source_columns = {id, odd};
  const auto decoded = decode_source_columns(encode_source_columns(t));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->relfilenode, 16390u);
  ASSERT_EQ(decoded->columns.size(), 2u);
  EXPECT_EQ(decoded->columns[0], (RecordedColumn{1, "id", 23, -1, true, true}));
  EXPECT_EQ(decoded->columns[1], (RecordedColumn{4, "a;b,c:1", 1043, 14, false, false}));
}

TEST(SourceColumns, EmptyOrMalformedTextIsNothing) {
  EXPECT_FALSE(decode_source_columns(""));
  EXPECT_FALSE(decode_source_columns("x"));
  EXPECT_FALSE(decode_source_columns("1;2,23,-1,1,1,5:id"));  // a name shorter than its length
  EXPECT_FALSE(decode_source_columns("1;2,23,-1,1"));
  const auto none = decode_source_columns("7");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->columns.empty());
}

}  // namespace
}  // namespace pg2ch::capture::table_sync
