#include "pipeline/ack_tracker.h"

#include <gtest/gtest.h>

namespace pg2ch::pipeline {
namespace {

TEST(PipelineAckTracker, NothingDurableBeforeFirstCommit) {
  AckTracker t;
  t.begin();
  EXPECT_FALSE(t.advance(AckTracker::kNothingPending));
  EXPECT_FALSE(t.durable());
}

TEST(PipelineAckTracker, CommitDurableOnlyWhenItsRowsAreFlushed) {
  AckTracker t;
  const auto s1 = t.begin();
  t.commit(100);
  // Rows of transaction s1 still buffered: position 100 must not be acknowledged.
  EXPECT_FALSE(t.advance(s1));
  EXPECT_FALSE(t.durable());
  EXPECT_EQ(t.advance(AckTracker::kNothingPending), 100u);
}

TEST(PipelineAckTracker, StopsAtOldestBufferedTransaction) {
  AckTracker t;
  t.begin();
  t.commit(100);
  const auto s2 = t.begin();
  t.commit(200);
  t.begin();
  t.commit(300);
  // A batch still holds rows of s2: only the first commit is durable.
  EXPECT_EQ(t.advance(s2), 100u);
  EXPECT_EQ(t.advance(AckTracker::kNothingPending), 300u);
}

TEST(PipelineAckTracker, OpenTransactionRowsHoldBackLaterIdle) {
  AckTracker t;
  t.begin();
  t.commit(100);
  t.idle(150);
  EXPECT_EQ(t.advance(AckTracker::kNothingPending), 150u);
  const auto s = t.begin();  // in progress, rows buffered
  EXPECT_EQ(t.advance(s), std::nullopt);
  EXPECT_EQ(t.durable(), 150u);
}

TEST(PipelineAckTracker, NeverMovesBackwards) {
  AckTracker t;
  t.idle(500);
  t.advance(AckTracker::kNothingPending);
  t.begin();
  t.commit(400);  // an older position reported later must not lower the durable one
  t.advance(AckTracker::kNothingPending);
  EXPECT_EQ(t.durable(), 500u);
}

}  // namespace
}  // namespace pg2ch::pipeline
