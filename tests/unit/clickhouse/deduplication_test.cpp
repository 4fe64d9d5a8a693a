#include "clickhouse/deduplication.h"

#include <gtest/gtest.h>

namespace pg2ch::clickhouse {
namespace {

TEST(DeduplicationToken, NamesTheBatchsPositionsAndRows) {
  const std::string token = deduplication_token(100, 250, 3, "rows");
  EXPECT_TRUE(token.starts_with("pg2ch-100-250-3-")) << token;
  EXPECT_EQ(token, deduplication_token(100, 250, 3, "rows"));  // a re-sent batch: the same token
}

// Batches that differ in any byte never share a token, even at the same positions: ClickHouse
// would drop the second one.
TEST(DeduplicationToken, DifferentRowsNeverShareAToken) {
  EXPECT_NE(deduplication_token(0, 0, 2, "ab"), deduplication_token(0, 0, 2, "ba"));
  EXPECT_NE(deduplication_token(7, 9, 2, std::string_view("a\0b", 3)), deduplication_token(7, 9, 2, "a"));
  EXPECT_NE(deduplication_token(7, 9, 2, "x"), deduplication_token(7, 9, 3, "x"));
  EXPECT_NE(deduplication_token(7, 9, 2, "x"), deduplication_token(8, 9, 2, "x"));
}

}  // namespace
}  // namespace pg2ch::clickhouse
