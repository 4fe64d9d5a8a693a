#include "capture/poll/window_queue.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace pg2ch::capture::poll {
namespace {

Window window(std::optional<std::string> lo, std::string hi, std::uint64_t position) {
  Window w;
  if (lo) w.lo = Cursor{*lo, {}};
  w.hi = Cursor{std::move(hi), {}};
  w.snapshot = "1:1:";
  w.position = position;
  return w;
}

TEST(PollWindowQueue, NothingToCheckpointUntilClosedAndDurable) {
  WindowQueue q;
  q.push(window(std::nullopt, "10", 1));
  EXPECT_TRUE(q.has_pending());
  EXPECT_FALSE(q.take_checkpoint(100));  // still pending: its late rows may not be in yet
  q.close_front(1);
  EXPECT_FALSE(q.take_checkpoint(std::nullopt));  // sink has nothing durable
  EXPECT_FALSE(q.take_checkpoint(0));
  auto c = q.take_checkpoint(1);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->watermark, "10");
  EXPECT_FALSE(q.has_closed());
}

TEST(PollWindowQueue, RescanPositionHoldsCheckpointUntilLateRowsDurable) {
  WindowQueue q;
  q.push(window(std::nullopt, "10", 1));
  q.close_front(5);  // the rescan delivered late rows at position 5
  EXPECT_FALSE(q.take_checkpoint(4));
  EXPECT_EQ(q.take_checkpoint(5)->watermark, "10");
}

TEST(PollWindowQueue, CheckpointIsNewestDurableClosedWindow) {
  WindowQueue q;
  q.push(window(std::nullopt, "10", 1));
  q.push(window("10", "20", 2));
  q.push(window("20", "30", 3));
  q.close_front(1);
  q.close_front(4);
  EXPECT_EQ(q.pending_count(), 1u);
  EXPECT_EQ(q.take_checkpoint(2)->watermark, "10");   // second window's rescan not durable yet
  EXPECT_EQ(q.take_checkpoint(9)->watermark, "20");   // third still pending: never passed
  EXPECT_FALSE(q.take_checkpoint(9));
}

TEST(PollWindowQueue, ClosePositionNeverBelowPagePosition) {
  WindowQueue q;
  q.push(window(std::nullopt, "10", 7));
  q.close_front(3);
  EXPECT_FALSE(q.take_checkpoint(6));
  EXPECT_TRUE(q.take_checkpoint(7));
}

TEST(PollWindowQueue, ClosingWithoutPendingIsAProgrammingError) {
  WindowQueue q;
  EXPECT_THROW(q.close_front(1), Error);
}

}  // namespace
}  // namespace pg2ch::capture::poll
