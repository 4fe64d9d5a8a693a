#include "capture/logical/partition_watch.h"

#include <gtest/gtest.h>

namespace pg2ch::capture::logical {
namespace {

using Oids = std::vector<std::uint32_t>;

TEST(PartitionTruncatedMessage, ListsThePartitionThenItsAncestors) {
  EXPECT_EQ(parse_truncated_message("16402,16397,16385"), (Oids{16402, 16397, 16385}));
  EXPECT_EQ(parse_truncated_message("16390"), (Oids{16390}));
  EXPECT_EQ(parse_truncated_message("4294967295"), (Oids{4294967295u}));
}

TEST(PartitionTruncatedMessage, AnythingElseIsNoList) {
  for (const char* bad : {"", ",", "1,", ",1", "1,,2", "a", "1;2", " 1", "-1", "4294967296", "1 ,2"}) {
    EXPECT_FALSE(parse_truncated_message(bad)) << bad;
  }
}

}  // namespace
}  // namespace pg2ch::capture::logical
