// A stopped table's offsets in mode = "kafka" (capture/kafka_consumer/table_offsets.h): what a
// stop records as skipped, where a resumed table reads again, which messages read again are
// not applied twice, and how the states keep them.
#include <gtest/gtest.h>

#include "support/memory_state_store.h"

#include "capture/kafka_consumer/table_offsets.h"
#include "capture/table_sync/table_states.h"

namespace pg2ch::capture::kafka_consumer {
namespace {

using table_sync::TablePhase;
using table_sync::TableState;
using table_sync::TableStates;

TEST(UndurableOffsets, AStopSkipsFromTheEarliestMessageNotYetDurable) {
  pipeline::TableSchema a, b;
  UndurableOffsets u;
  u.applied(&a, 1, {"t", 0}, 10);
  u.applied(&a, 1, {"t", 0}, 11);
  u.applied(&a, 2, {"t", 0}, 20);
  u.applied(&a, 2, {"t", 1}, 7);
  u.applied(&b, 2, {"t", 0}, 21);
  EXPECT_EQ(u.earliest(&a), (PartitionOffsets{{{"t", 0}, 10}, {{"t", 1}, 7}}))
      << "segment 1 is not durable: the discard drops its rows too";
  u.durable_up_to(1);
  EXPECT_EQ(u.earliest(&a), (PartitionOffsets{{{"t", 0}, 20}, {{"t", 1}, 7}}));
  u.applied(&a, 3, {"t", 1}, 3);  // a partition read again: earlier offsets in a later segment
  EXPECT_EQ(u.earliest(&a), (PartitionOffsets{{{"t", 0}, 20}, {{"t", 1}, 3}}));
  u.forget(&a);
  EXPECT_TRUE(u.earliest(&a).empty());
  EXPECT_EQ(u.earliest(&b), (PartitionOffsets{{{"t", 0}, 21}}));
  u.durable_up_to(3);
  EXPECT_TRUE(u.earliest(&b).empty());
}

TEST(ResumeStart, TheEarlierOfTheCommittedOffsetAndTheFirstSkipped) {
  EXPECT_EQ(resume_start(100, 40), 40) << "the skipped messages were committed past: read them again";
  EXPECT_EQ(resume_start(30, 40), 30) << "nothing past 30 was committed: everything from there";
  EXPECT_EQ(resume_start(std::nullopt, 40), 40);
}

TEST(AlreadyApplied, OnlyMessagesReadAgainThatTheirTableSkippedAreAppliedAgain) {
  TableState streaming;
  streaming.phase = TablePhase::Streaming;
  TableState resumed;
  resumed.phase = TablePhase::CatchingUp;
  resumed.skipped_from = {{{"t", 0}, 50}};
  EXPECT_FALSE(already_applied(streaming, {"t", 0}, 10, std::nullopt)) << "nothing is read again";
  EXPECT_FALSE(already_applied(streaming, {"t", 0}, 100, 100)) << "first read";
  EXPECT_TRUE(already_applied(streaming, {"t", 0}, 60, 100)) << "another table's, applied then";
  EXPECT_TRUE(already_applied(resumed, {"t", 0}, 40, 100)) << "before it stopped: applied";
  EXPECT_FALSE(already_applied(resumed, {"t", 0}, 60, 100)) << "skipped while stopped";
  EXPECT_TRUE(already_applied(resumed, {"t", 1}, 60, 100)) << "it skipped nothing on partition 1";
}

TEST(PartitionOffsets, KeptAsTextAndReadBack) {
  const PartitionOffsets o{{{"pg2ch.public.t-x_1", 0}, 12}, {{"pg2ch.public.t-x_1", 11}, 0}, {{"a", 2}, 7}};
  const std::string text = table_sync::format_partition_offsets(o);
  EXPECT_EQ(text, "a[2]=7,pg2ch.public.t-x_1[0]=12,pg2ch.public.t-x_1[11]=0");
  EXPECT_EQ(table_sync::parse_partition_offsets(text), o);
  EXPECT_EQ(table_sync::parse_partition_offsets(""), PartitionOffsets{});
  for (const char* bad : {"t", "t[0]", "t[x]=1", "[0]=1", "t[0]=-1", "t[0]=1,", "t[0]=1x"}) {
    EXPECT_FALSE(table_sync::parse_partition_offsets(bad)) << bad;
  }
}

using MemoryStore = test::MemoryStateStore;

TEST(KafkaTableStates, AKafkaStopKeepsItsSkippedOffsetsThroughCatchingUpAndAReload) {
  MemoryStore store;
  pipeline::TableSchema t;
  t.source_schema = "public";
  t.source_name = "t";
  const pipeline::TableSchema* tables[] = {&t};
  {
    TableStates states(store, tables, "kafka ");
    states.set(t, TablePhase::Streaming);
    states.stop(t, "NaN", "map it as String", {{{"x", 0}, 10}});
    EXPECT_TRUE(states.skipped(t, {"x", 1}, 5)) << "the first skipped on partition 1";
    const int puts = store.puts;
    EXPECT_FALSE(states.skipped(t, {"x", 1}, 6));
    EXPECT_FALSE(states.skipped(t, {"x", 0}, 11));
    EXPECT_EQ(store.puts, puts) << "only a partition's first skip is written";
  }
  EXPECT_FALSE(store.values.contains(R"(table "public"."t" phase)")) << "keys carry the pipeline's prefix";
  TableStates states(store, tables, "kafka ");
  EXPECT_EQ(states.phase(t), TablePhase::Stopped);
  EXPECT_EQ(states.at(t).skipped_from, (PartitionOffsets{{{"x", 0}, 10}, {{"x", 1}, 5}}));
  states.resume(t, {{{"x", 0}, 30}, {{"x", 1}, 25}});
  EXPECT_EQ(states.phase(t), TablePhase::CatchingUp);
  EXPECT_TRUE(states.at(t).reason.empty());
  // Stopped again while catching up: what it re-read is not durable, the earlier offsets stay.
  states.stop(t, "NaN again", "fix", {{{"x", 0}, 12}, {{"x", 2}, 3}});
  EXPECT_EQ(states.at(t).skipped_from, (PartitionOffsets{{{"x", 0}, 10}, {{"x", 1}, 5}, {{"x", 2}, 3}}));
  EXPECT_EQ(states.at(t).replay_until, (PartitionOffsets{{{"x", 0}, 30}, {{"x", 1}, 25}}));
  states.resume(t, {{{"x", 0}, 20}, {{"x", 2}, 8}});
  EXPECT_EQ(states.at(t).replay_until, (PartitionOffsets{{{"x", 0}, 30}, {{"x", 1}, 25}, {{"x", 2}, 8}}))
      << "the later bound stays: below it other tables' truncates were applied";
  states.set(t, TablePhase::Streaming);
  TableStates reloaded(store, tables, "kafka ");
  EXPECT_TRUE(reloaded.at(t).skipped_from.empty());
  EXPECT_TRUE(reloaded.at(t).replay_until.empty());
}

}  // namespace
}  // namespace pg2ch::capture::kafka_consumer
