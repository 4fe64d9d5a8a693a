// The consumer's bookkeeping: which offsets may be committed, when a truncate may run, and the
// replay start argument.
#include <gtest/gtest.h>

#include "capture/kafka_consumer/offset_ledger.h"
#include "capture/kafka_consumer/replay_start.h"
#include "capture/kafka_consumer/truncate_barrier.h"
#include "common/error.h"

namespace pg2ch::capture::kafka_consumer {
namespace {

TEST(OffsetLedger, CommitsOnlyWhatTheSinkMadeDurable) {
  OffsetLedger l;
  l.record(1, {{{"t", 0}, 10}, {{"t", 1}, 5}});
  l.record(2, {{{"t", 0}, 20}});
  EXPECT_TRUE(l.committable().empty()) << "nothing is durable yet";
  l.durable_up_to(1);
  auto c = l.committable();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].offset, 10);
  EXPECT_EQ(c[1].offset, 5);
  l.durable_up_to(2);
  c = l.committable();
  EXPECT_EQ(c[0].offset, 20) << "the newest durable offset of a partition wins";
  l.committed(c);
  EXPECT_TRUE(l.settled());
}

TEST(OffsetLedger, FailedCommitStaysCommittable) {
  OffsetLedger l;
  l.record(1, {{{"t", 0}, 10}});
  l.durable_up_to(1);
  const auto first = l.committable();
  l.record(2, {{{"t", 0}, 11}});
  l.durable_up_to(2);
  l.committed(first);  // a commit of 10 that raced with 11: 11 must still be committed
  ASSERT_EQ(l.committable().size(), 1u);
  EXPECT_EQ(l.committable()[0].offset, 11);
  EXPECT_FALSE(l.settled());
}

TEST(OffsetLedger, RevokedPartitionsAreForgotten) {
  OffsetLedger l;
  l.record(1, {{{"t", 0}, 10}, {{"t", 1}, 3}});
  l.forget({"t", 1});
  l.durable_up_to(1);
  ASSERT_EQ(l.committable().size(), 1u);
  EXPECT_EQ(l.committable()[0].partition, 0);
}

TEST(TruncateBarrier, ReleasesWhenEveryPartitionArrived) {
  TruncateBarrier b;
  EXPECT_FALSE(b.arrive("topic", "public.t", 0, 100, 3));
  EXPECT_TRUE(b.is_paused("topic", 0));
  EXPECT_FALSE(b.is_paused("topic", 1));
  EXPECT_FALSE(b.arrive("topic", "public.t", 2, 7, 3));
  EXPECT_TRUE(b.arrive("topic", "public.t", 1, 50, 3));
  const auto arrivals = b.release("topic", "public.t");
  ASSERT_EQ(arrivals.size(), 3u);
  EXPECT_EQ(arrivals[1].partition, 2);
  EXPECT_EQ(arrivals[1].offset, 7);
  EXPECT_TRUE(b.empty());
  EXPECT_FALSE(b.is_paused("topic", 0));
}

TEST(TruncateBarrier, SinglePartitionTopicPassesAtOnce) {
  TruncateBarrier b;
  EXPECT_TRUE(b.arrive("topic", "public.t", 0, 1, 1));
}

TEST(ReplayStart, ParsesEveryForm) {
  const auto no_time = [](const std::string&) -> std::int64_t { throw std::logic_error("unexpected"); };
  EXPECT_EQ(parse_replay_start("beginning", no_time).kind, ReplayStart::Kind::Beginning);
  EXPECT_EQ(parse_replay_start("end", no_time).kind, ReplayStart::Kind::End);
  const auto o = parse_replay_start("offset:1234", no_time);
  EXPECT_EQ(o.kind, ReplayStart::Kind::Offset);
  EXPECT_EQ(o.value, 1234);
  const auto t = parse_replay_start("time:2024-05-01T10:00:00Z", [](const std::string& iso) {
    EXPECT_EQ(iso, "2024-05-01T10:00:00Z");
    return std::int64_t{1714557600000};
  });
  EXPECT_EQ(t.kind, ReplayStart::Kind::Time);
  EXPECT_EQ(t.value, 1714557600000);
  for (const char* bad : {"", "start", "offset:", "offset:-1", "offset:12x", "time:", "Beginning"}) {
    EXPECT_THROW(parse_replay_start(bad, no_time), Error) << bad;
  }
}

}  // namespace
}  // namespace pg2ch::capture::kafka_consumer
