#include "capture/notify/follow_up.h"

#include <gtest/gtest.h>

namespace pg2ch::capture::notify {
namespace {

TEST(NotifyPayload, ParsesTableAndBucketEnd) {
  const auto p = parse_payload("public.orders:1764077400050000");
  EXPECT_EQ(p.table, "public.orders");
  EXPECT_EQ(p.bucket_end_us, 1764077400050000);
}

TEST(NotifyPayload, OlderTriggersSendTheTableOnly) {
  EXPECT_EQ(parse_payload("public.orders").table, "public.orders");
  EXPECT_FALSE(parse_payload("public.orders").bucket_end_us);
  // A colon inside the name with no number after it belongs to the name.
  EXPECT_EQ(parse_payload("public.a:b").table, "public.a:b");
  EXPECT_FALSE(parse_payload("public.a:").bucket_end_us);
  EXPECT_FALSE(parse_payload("public.a:12x").bucket_end_us);
  EXPECT_EQ(parse_payload("s.x:y:42").table, "s.x:y");
  EXPECT_EQ(parse_payload("").table, "");
}

TEST(NotifyBucket, LengthInMicroseconds) {
  EXPECT_EQ(bucket_us(50), 50000);
  EXPECT_EQ(bucket_us(2000), 2000000);
  EXPECT_EQ(bucket_us(0), 1000) << "coalesce_ms = 0 still makes 1 ms buckets";
}

using Xids = std::vector<std::uint32_t>;

TEST(NotifyFollowUp, WaitsForAProbeAfterTheBucketThenForItsTransactions) {
  FollowUp f;
  EXPECT_FALSE(f.active());
  f.notified(1000);
  EXPECT_TRUE(f.active());
  // A probe inside the bucket proves nothing: a skipped transaction may not have its xid yet.
  f.probed(999, {});
  f.polled();
  EXPECT_TRUE(f.active());
  EXPECT_FALSE(f.passed_bucket_end());
  // After: 7 and 9 hold xids, any skipped transaction among them (or ended, read by this poll).
  f.probed(1000, {7, 9});
  f.polled();
  EXPECT_TRUE(f.passed_bucket_end());
  EXPECT_EQ(f.waiting_for(), (Xids{7, 9}));
  // 9 ended; 12 took its xid later and is not waited for.
  f.probed(1100, {7, 12});
  f.polled();
  EXPECT_EQ(f.waiting_for(), (Xids{7}));
  EXPECT_TRUE(f.active());
  // 7 ended before this probe: the poll after it reads its rows, and that ends the follow-up.
  f.probed(1200, {12, 15});
  EXPECT_TRUE(f.active()) << "not before the poll that follows the probe";
  f.polled();
  EXPECT_FALSE(f.active());
}

TEST(NotifyFollowUp, NothingRunningAfterTheBucketNeedsOnePollMore) {
  FollowUp f;
  f.notified(1000);
  f.probed(1500, {});
  EXPECT_TRUE(f.active());
  f.polled();
  EXPECT_FALSE(f.active());
}

TEST(NotifyFollowUp, OlderOrRepeatedBucketsAreCovered) {
  FollowUp f;
  f.notified(2000);
  f.notified(1000);  // a late notifier of an earlier bucket: the follow-up of 2000 covers it
  f.probed(2000, {});
  f.polled();
  EXPECT_FALSE(f.active());
  f.notified(2000);  // the same bucket twice (two notifiers raced): done already
  EXPECT_FALSE(f.active());
  f.notified(1500);
  EXPECT_FALSE(f.active());
}

TEST(NotifyFollowUp, ANewerBucketRestartsTheFollowUp) {
  FollowUp f;
  f.notified(1000);
  f.probed(1000, {7});
  f.notified(2000);
  EXPECT_FALSE(f.passed_bucket_end());
  EXPECT_TRUE(f.waiting_for().empty());
  f.probed(1500, {});  // after the old bucket, not after the new one
  f.polled();
  EXPECT_TRUE(f.active());
  f.probed(2100, {8});
  f.polled();
  f.probed(2200, {});
  f.polled();
  EXPECT_FALSE(f.active());
}

TEST(NotifyFollowUp, ANewerBucketBetweenProbeAndPollIsNotEndedByThatPoll) {
  FollowUp f;
  f.notified(1000);
  f.probed(1500, {});
  f.notified(2000);
  f.polled();
  EXPECT_TRUE(f.active());
}

TEST(NotifyFollowUp, ProbesAndPollsWithoutANotificationChangeNothing) {
  FollowUp f;
  f.probed(5000, {1});
  f.polled();
  EXPECT_FALSE(f.active());
}

}  // namespace
}  // namespace pg2ch::capture::notify
