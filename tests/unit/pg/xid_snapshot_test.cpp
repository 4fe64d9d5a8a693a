#include "pg/xid_snapshot.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace pg2ch::pg {
namespace {

TEST(XidSnapshot, ParsesWhatPgCurrentSnapshotPrints) {
  const auto s = XidSnapshot::parse("740:760:755,742");
  EXPECT_EQ(s.xmin, 740u);
  EXPECT_EQ(s.xmax, 760u);
  EXPECT_EQ(s.xip, (std::vector<std::uint64_t>{742, 755}));
  EXPECT_TRUE(XidSnapshot::parse("10:10:").xip.empty());
}

TEST(XidSnapshot, RefusesTextThatIsNotASnapshot) {
  EXPECT_THROW(XidSnapshot::parse(""), ProtocolError);
  EXPECT_THROW(XidSnapshot::parse("1:2"), ProtocolError);
  EXPECT_THROW(XidSnapshot::parse("1:x:"), ProtocolError);
  EXPECT_THROW(XidSnapshot::parse("1:2:3,,4"), ProtocolError);
}

TEST(XidSnapshot, SeesWhatCompletedBeforeItAndNotWhatRanOrCameAfter) {
  const auto s = XidSnapshot::parse("740:760:742,755");
  EXPECT_TRUE(s.sees(3));    // long complete
  EXPECT_TRUE(s.sees(739));  // below xmin
  EXPECT_TRUE(s.sees(741));
  EXPECT_FALSE(s.sees(742));  // in progress when taken
  EXPECT_FALSE(s.sees(755));
  EXPECT_TRUE(s.sees(759));
  EXPECT_FALSE(s.sees(760));  // assigned after
  EXPECT_FALSE(s.sees(900));
}

TEST(XidSnapshot, WidensA32BitXidAcrossAnEpoch) {
  constexpr std::uint64_t kEpoch = std::uint64_t{1} << 32;
  // xmin in the previous epoch's last xids, xmax past the wrap.
  const auto s = XidSnapshot::parse(std::to_string(kEpoch - 10) + ":" + std::to_string(kEpoch + 5) + ":" +
                                    std::to_string(kEpoch - 4) + "," + std::to_string(kEpoch + 2));
  EXPECT_TRUE(s.sees(static_cast<std::uint32_t>(kEpoch - 20)));
  EXPECT_TRUE(s.sees(static_cast<std::uint32_t>(kEpoch - 5)));
  EXPECT_FALSE(s.sees(static_cast<std::uint32_t>(kEpoch - 4)));
  EXPECT_TRUE(s.sees(1));
  EXPECT_FALSE(s.sees(2));
  EXPECT_FALSE(s.sees(5));
  EXPECT_FALSE(s.sees(6));
}

}  // namespace
}  // namespace pg2ch::pg
