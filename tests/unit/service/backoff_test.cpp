#include "service/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace pg2ch::service {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, CeilingDoublesUpToTheCap) {
  Backoff b(milliseconds(100), milliseconds(1000), 42);
  std::vector<long> ceilings;
  for (int i = 0; i < 7; ++i) {
    ceilings.push_back(b.ceiling().count());
    b.next();
  }
  EXPECT_EQ(ceilings, (std::vector<long>{100, 200, 400, 800, 1000, 1000, 1000}));
  b.reset();
  EXPECT_EQ(b.ceiling(), milliseconds(100));
  EXPECT_EQ(b.attempts(), 0);
}

TEST(Backoff, DelaysAreJitteredBetweenHalfTheCeilingAndIt) {
  Backoff b(milliseconds(1000), milliseconds(4000), 7);
  std::set<long> seen;
  for (int i = 0; i < 200; ++i) {
    const auto ceiling = b.ceiling();
    const auto d = b.next();
    EXPECT_GE(d, std::max(ceiling / 2, Backoff::floor));
    EXPECT_LE(d, std::max(ceiling, Backoff::floor));
    seen.insert(d.count());
  }
  EXPECT_GT(seen.size(), 100u) << "jitter spreads the delays";
}

TEST(Backoff, HugeAttemptCountsDoNotOverflow) {
  Backoff b(milliseconds(1), milliseconds(60000), 1);
  for (int i = 0; i < 500; ++i) b.next();
  EXPECT_EQ(b.ceiling(), milliseconds(60000));
}

}  // namespace
}  // namespace pg2ch::service
