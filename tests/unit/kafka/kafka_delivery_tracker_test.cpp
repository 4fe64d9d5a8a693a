#include "kafka/delivery_tracker.h"

#include <gtest/gtest.h>

namespace pg2ch::kafka {
namespace {

TEST(KafkaDeliveryTracker, OldestPendingFollowsReports) {
  DeliveryTracker t;
  EXPECT_EQ(t.oldest_pending(), pipeline::AckTracker::kNothingPending);
  t.sent(1);
  t.sent(1);
  t.sent(2);
  EXPECT_EQ(t.oldest_pending(), 1u);
  t.delivered(2);  // reports of different partitions arrive out of order
  EXPECT_EQ(t.oldest_pending(), 1u);
  t.delivered(1);
  EXPECT_EQ(t.oldest_pending(), 1u);
  t.delivered(1);
  EXPECT_EQ(t.oldest_pending(), pipeline::AckTracker::kNothingPending);
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(KafkaDeliveryTracker, DrivesAckTrackerLikeBufferedRows) {
  pipeline::AckTracker acks;
  DeliveryTracker d;
  d.sent(acks.begin());
  acks.commit(100);
  d.sent(acks.begin());
  acks.commit(200);
  d.delivered(2);
  EXPECT_FALSE(acks.advance(d.oldest_pending())) << "transaction 1 still in flight";
  d.delivered(1);
  EXPECT_EQ(acks.advance(d.oldest_pending()), 200u);
}

}  // namespace
}  // namespace pg2ch::kafka
