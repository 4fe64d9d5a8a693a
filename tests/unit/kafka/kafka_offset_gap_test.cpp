#include "kafka/offset_gap.h"

#include <gtest/gtest.h>

namespace pg2ch::kafka {
namespace {

TEST(KafkaOffsetGap, ReadingGoesOnWhileTheBrokerKeepsEverythingFromTheCommittedOffset) {
  EXPECT_FALSE(find_offset_gap(100, 100, 500)) << "the first kept message is the next one";
  EXPECT_FALSE(find_offset_gap(300, 100, 500));
  EXPECT_FALSE(find_offset_gap(500, 100, 500)) << "at the end: nothing new yet";
  EXPECT_FALSE(find_offset_gap(0, 0, 0)) << "an empty partition never written";
  EXPECT_FALSE(find_offset_gap(7, 7, 7)) << "everything read, then deleted by retention: nothing lost";
}

TEST(KafkaOffsetGap, ACommittedOffsetBelowTheFirstKeptOneIsAGap) {
  const auto gap = find_offset_gap(100, 2345, 5000);
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->kind, OffsetGap::Kind::Deleted);
  EXPECT_EQ(gap->from, 100);
  EXPECT_EQ(gap->low, 2345);
  EXPECT_EQ(gap->high, 5000);
  EXPECT_TRUE(find_offset_gap(99, 100, 100)) << "retention deleted every message, one of them unread";
}

TEST(KafkaOffsetGap, ACommittedOffsetPastTheEndIsAGapToo) {
  const auto gap = find_offset_gap(900, 0, 40);  // the topic was re-created
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->kind, OffsetGap::Kind::PastTheEnd);
}

TEST(KafkaOffsetGap, TheErrorNamesTopicPartitionRangeAndTheResync) {
  const Error e = offset_gap_error("pg2ch.public.orders", 2, "ch-group", *find_offset_gap(100, 2345, 5000));
  EXPECT_EQ(e.kind(), ErrorKind::Schema) << "exit code 5: an operator must copy the tables again";
  EXPECT_FALSE(e.retriable());
  const std::string text = e.one_line();
  EXPECT_NE(text.find("pg2ch.public.orders[2] offsets 100..2344"), std::string::npos) << text;
  EXPECT_NE(text.find("group ch-group"), std::string::npos) << text;
  EXPECT_NE(text.find("it keeps 2345..4999"), std::string::npos) << text;
  EXPECT_NE(text.find("pg2ch resync"), std::string::npos) << text;
  EXPECT_NE(text.find("replay --from beginning"), std::string::npos) << text;

  const std::string emptied = offset_gap_error("t", 0, "g", *find_offset_gap(5, 9, 9)).one_line();
  EXPECT_NE(emptied.find("t[0] offsets 5..8"), std::string::npos) << emptied;
  EXPECT_NE(emptied.find("it keeps none now"), std::string::npos) << emptied;

  const std::string recreated = offset_gap_error("t", 1, "g", *find_offset_gap(900, 0, 40)).one_line();
  EXPECT_NE(recreated.find("offset 900 of Kafka partition t[1], past its end 40"), std::string::npos) << recreated;
}

}  // namespace
}  // namespace pg2ch::kafka
