#include "capture/shared/attached_partitions.h"

#include <gtest/gtest.h>

namespace pg2ch::capture {
namespace {

TEST(PartitionsState, RoundTripsOidXminAndName) {
  const SeenPartitions seen{
      {16401, {731, "sales_eu"}},
      {16402, {4294967295U, "\"Sales:1\""}}, // the largest xid; a name with ':'
      {16403, {0, "other.\"2024\""}}};
  EXPECT_EQ(encode_partitions(seen), "16401:731:sales_eu\n16402:4294967295:"
                                     "\"Sales:1\"\n16403:0:other.\"2024\"");
  EXPECT_EQ(decode_partitions(encode_partitions(seen)), seen);
  EXPECT_EQ(decode_partitions(""), SeenPartitions{});
}

// A state written before the xmin was kept: every partition reads with link 0
// (not known), which look() only records, so the first start after the upgrade
// copies nothing.
TEST(PartitionsState, ReadsTheStateWrittenBeforeTheXminWasKept) {
  EXPECT_EQ(
      decode_partitions(
          "16401:sales_eu\n16402:\"Sales:1\"\n16403:public.\"sales_2024\""),
      (SeenPartitions{{16401, {0, "sales_eu"}},
                      {16402, {0, "\"Sales:1\""}},
                      {16403, {0, "public.\"sales_2024\""}}}));
}

TEST(PartitionsState, SkipsLinesThatParseAsNeither) {
  EXPECT_EQ(decode_partitions("junk\n16401:731:sales_eu\n:12:x\n99999999999:1:"
                              "too_big\n16402\n\n16403:7:"),
            (SeenPartitions{{16401, {731, "sales_eu"}}, {16403, {7, ""}}}));
}

} // namespace
} // namespace pg2ch::capture
