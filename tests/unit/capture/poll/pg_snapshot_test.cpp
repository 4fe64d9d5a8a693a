#include "capture/poll/pg_snapshot.h"

#include <gtest/gtest.h>

namespace pg2ch::capture::poll {
namespace {

constexpr std::uint64_t kEpoch = 1ull << 32;

TEST(PollPgSnapshot, ParsesTextForm) {
  auto s = parse_pg_snapshot("100:105:100,102");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->xmin, 100u);
  EXPECT_EQ(s->xmax, 105u);
  EXPECT_EQ(s->xip, (std::vector<std::uint64_t>{100, 102}));
  auto empty = parse_pg_snapshot("7:7:");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->xip.empty());
}

TEST(PollPgSnapshot, RejectsMalformedText) {
  for (const char* bad : {"", "1", "1:2", "5:4:", "1:5:7", "1:5:2,", "a:5:", "1:5:2,,3", "1:5:x"}) {
    EXPECT_FALSE(parse_pg_snapshot(bad)) << bad;
  }
}

TEST(PollPgSnapshot, XidInXmaxEpochWhenNotAboveItsLowBits) {
  const std::uint64_t xmax = 3 * kEpoch + 1000;
  EXPECT_EQ(xid8_from_xid32(999, xmax), 3 * kEpoch + 999);
  EXPECT_EQ(xid8_from_xid32(1000, xmax), 3 * kEpoch + 1000);  // a row of a transaction assigned after the snapshot
  EXPECT_EQ(xid8_from_xid32(3, xmax), 3 * kEpoch + 3);
}

TEST(PollPgSnapshot, XidAboveXmaxLowBitsBelongsToPreviousEpoch) {
  // xmax just after a wraparound of the 32-bit counter: rows written shortly before carry huge xids.
  const std::uint64_t xmax = 3 * kEpoch + 10;
  EXPECT_EQ(xid8_from_xid32(4294967290u, xmax), 2 * kEpoch + 4294967290u);
  EXPECT_EQ(xid8_from_xid32(11, xmax), 2 * kEpoch + 11);
}

TEST(PollPgSnapshot, EpochZeroNeverUnderflows) {
  EXPECT_EQ(xid8_from_xid32(4000000000u, 500), 4000000000u);
}

TEST(PollPgSnapshot, SplitXmaxMatchesConversion) {
  const std::uint64_t xmax = 7 * kEpoch + 123456;
  const XmaxParts p = split_xmax(xmax);
  EXPECT_EQ(p.epoch, 7u);
  EXPECT_EQ(p.low, 123456u);
}

TEST(PollPgSnapshot, VisibilityFollowsPostgresRules) {
  const PgSnapshot s{100, 110, {103, 105}};
  EXPECT_TRUE(visible_in_snapshot(99, s));
  EXPECT_TRUE(visible_in_snapshot(100, s));   // not in xip: committed before the snapshot
  EXPECT_FALSE(visible_in_snapshot(103, s));  // in progress at the snapshot: a late row
  EXPECT_TRUE(visible_in_snapshot(104, s));
  EXPECT_FALSE(visible_in_snapshot(110, s));  // assigned after the snapshot
}

TEST(PollPgSnapshot, LateRowAcrossWraparoundIsInvisible) {
  // Snapshot taken just after the 32-bit counter wrapped, while a transaction from before the
  // wrap was still running: its row's xmin has huge low bits and must map to the old epoch.
  const std::uint64_t xmax = 3 * kEpoch + 10;
  const std::uint64_t running = 2 * kEpoch + 4294967290u;
  const PgSnapshot s{running, xmax, {running}};
  EXPECT_FALSE(visible_in_snapshot(xid8_from_xid32(4294967290u, xmax), s));
  EXPECT_TRUE(visible_in_snapshot(xid8_from_xid32(4294967280u, xmax), s));  // finished before
  EXPECT_FALSE(visible_in_snapshot(xid8_from_xid32(10, xmax), s));          // assigned after
}

}  // namespace
}  // namespace pg2ch::capture::poll
