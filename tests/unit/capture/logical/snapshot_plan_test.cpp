#include "capture/logical/snapshot_plan.h"

#include <gtest/gtest.h>

namespace pg2ch::capture::logical {
namespace {

SourceRelations one_relation(std::int64_t blocks) { return {{{42, {}, blocks}}, "42:42"}; }

// The ranges cover blocks [0, end) without gaps or overlaps, the last one open-ended.
void expect_contiguous(const std::vector<CopyRange>& ranges) {
  ASSERT_FALSE(ranges.empty());
  EXPECT_EQ(ranges.front().first_block, 0);
  for (std::size_t i = 1; i < ranges.size(); ++i) EXPECT_EQ(ranges[i].first_block, ranges[i - 1].end_block);
  EXPECT_EQ(ranges.back().end_block, -1);
}

TEST(SnapshotPlan, ALargeTableIsCutIntoOneRangePerWorkerUnlessThatExceedsTheRangeSize) {
  pipeline::TableSchema t;
  const auto per_worker = plan_table(t, one_relation(100000), 2, 1000000);
  EXPECT_EQ(per_worker.size(), 2u);
  expect_contiguous(per_worker);

  // 256 MB ranges of 8 kB blocks: a 100000-block table (780 MB) is four ranges, whatever the workers.
  const auto capped = plan_table(t, one_relation(100000), 2, 32768);
  EXPECT_EQ(capped.size(), 4u);
  expect_contiguous(capped);
  EXPECT_EQ(capped[0].end_block, 32768);
}

TEST(SnapshotPlan, ASmallRangeSizeCutsBelowTheUsualFloor) {
  pipeline::TableSchema t;
  const auto small = plan_table(t, one_relation(1000), 1, 100);
  EXPECT_EQ(small.size(), 10u);
  expect_contiguous(small);
  // Without a small range size a table under 1024 blocks is one range.
  EXPECT_EQ(plan_table(t, one_relation(1000), 4, 32768).size(), 1u);
}

TEST(SnapshotPlan, PartitionsAreCutOneByOneAndSmallPartitionedTablesAreOneRange) {
  pipeline::TableSchema t;
  const SourceRelations parts{{{1, "\"s\".\"p1\"", 3000}, {2, "\"s\".\"p2\"", 10}}, "1:1 2:2"};
  const auto ranges = plan_table(t, parts, 1, 1000);
  ASSERT_EQ(ranges.size(), 4u);
  EXPECT_EQ(ranges[0].leaf_oid, 1u);
  EXPECT_EQ(ranges[3].leaf, "\"s\".\"p2\"");
  EXPECT_EQ(ranges[3].end_block, -1);
  const SourceRelations tiny{{{1, "\"s\".\"p1\"", 30}, {2, "\"s\".\"p2\"", 10}}, "1:1 2:2"};
  const auto one = plan_table(t, tiny, 2, 1000);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(one[0].leaf.empty());
}

}  // namespace
}  // namespace pg2ch::capture::logical
