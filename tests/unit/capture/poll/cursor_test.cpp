#include "capture/poll/cursor.h"

#include <gtest/gtest.h>

#include "capture/poll/version_clock.h"

namespace pg2ch::capture::poll {
namespace {

TEST(PollCheckpointCodec, RoundTripsAnyText) {
  const Cursor c{"2026-11-25 12:00:00.123456+00", {"a b", "", "x:y 3:z", "\xd0\xb9"}};
  const std::string text = encode_checkpoint("updated_at", c);
  auto back = decode_checkpoint(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->column, "updated_at");
  EXPECT_EQ(back->cursor, c);
}

TEST(PollCheckpointCodec, ReadableForAnIdWatermark) {
  EXPECT_EQ(encode_checkpoint("id", Cursor{"42", {}}), "v1 2:id 2:42");
}

TEST(PollCheckpointCodec, RejectsForeignOrTruncatedText) {
  for (const char* bad : {"", "v2 2:id 2:42", "v1", "v1 2:id", "v1 2:id 9:42", "v1 x:id 2:42", "v1 2:id 2:42 "}) {
    EXPECT_FALSE(decode_checkpoint(bad)) << bad;
  }
}

TEST(PollVersionClock, StrictlyIncreasingEvenWhenTheClockRepeatsOrStepsBack) {
  VersionClock v;
  EXPECT_EQ(v.next(1000), 1000u);
  EXPECT_EQ(v.next(1000), 1001u);
  EXPECT_EQ(v.next(900), 1002u);
  EXPECT_EQ(v.next(5000), 5000u);
}

}  // namespace
}  // namespace pg2ch::capture::poll
