#include "pipeline/insert_budget.h"

#include <gtest/gtest.h>

namespace pg2ch::pipeline {
namespace {

using namespace std::chrono_literals;
using Clock = InsertBudget::Clock;

TEST(InsertBudget, OneSecondOfBurstThenTheRate) {
  const auto t0 = Clock::time_point{} + 100s;
  InsertBudget b(20, t0);
  int taken = 0;
  while (b.try_take(t0)) ++taken;
  EXPECT_EQ(taken, 20);
  EXPECT_FALSE(b.try_take(t0 + 49ms));
  EXPECT_TRUE(b.try_take(t0 + 50ms)) << "one token every 1/20 s";
  EXPECT_FALSE(b.try_take(t0 + 50ms));
  // Over ten seconds at most 20 a second (plus the initial burst).
  taken = 0;
  for (auto t = t0 + 50ms; t < t0 + 10s; t += 1ms) {
    while (b.try_take(t)) ++taken;
  }
  EXPECT_GE(taken, 197);
  EXPECT_LE(taken, 199);
}

TEST(InsertBudget, ChargedFlushesGoIntoBoundedDebt) {
  const auto t0 = Clock::time_point{} + 100s;
  InsertBudget b(10, t0);
  for (int i = 0; i < 100; ++i) b.charge(t0);  // full batches never wait
  EXPECT_DOUBLE_EQ(b.tokens(t0), -10) << "at most one second of debt";
  EXPECT_EQ(b.next_token_at(t0), t0 + 1100ms) << "debt of 10 plus one token at 10/s";
  EXPECT_FALSE(b.try_take(t0 + 1s));
  EXPECT_TRUE(b.try_take(t0 + 1100ms));
}

TEST(InsertBudget, NoLimitAlwaysGives) {
  const auto t0 = Clock::time_point{} + 100s;
  InsertBudget b(0, t0);
  EXPECT_FALSE(b.limited());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.try_take(t0));
  EXPECT_EQ(b.next_token_at(t0), t0);
}

TEST(InsertBudget, ANewRateKeepsTheTokensWithinTheNewBurst) {
  const auto t0 = Clock::time_point{} + 100s;
  InsertBudget b(50, t0);
  b.set_rate(2, t0);
  EXPECT_DOUBLE_EQ(b.tokens(t0), 2);
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_FALSE(b.try_take(t0));
  EXPECT_EQ(b.next_token_at(t0), t0 + 500ms);
}

TEST(InsertBudget, MaxDelayWinsOverALongerTableInterval) {
  EXPECT_EQ(effective_table_interval(1000ms, 100ms), 100ms);
  EXPECT_EQ(effective_table_interval(1000ms, 5000ms), 1000ms);
  EXPECT_EQ(effective_table_interval(0ms, 5000ms), 0ms);
}

}  // namespace
}  // namespace pg2ch::pipeline
