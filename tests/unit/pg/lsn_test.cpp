#include "common/lsn.h"

#include <gtest/gtest.h>

namespace pg2ch {
namespace {

TEST(PgLsn, FormatsAsTwoHexHalves) {
  EXPECT_EQ(format_lsn(0), "0/0");
  EXPECT_EQ(format_lsn(0x1534AF0), "0/1534AF0");
  EXPECT_EQ(format_lsn(0x00000016B3748000ULL), "16/B3748000");
  EXPECT_EQ(format_lsn(UINT64_MAX), "FFFFFFFF/FFFFFFFF");
}

TEST(PgLsn, ParsesWhatPostgresPrints) {
  EXPECT_EQ(parse_lsn("0/0"), 0u);
  EXPECT_EQ(parse_lsn("0/1534AF0"), 0x1534AF0u);
  EXPECT_EQ(parse_lsn("16/b3748000"), 0x00000016B3748000ULL);
  EXPECT_EQ(parse_lsn("FFFFFFFF/FFFFFFFF"), UINT64_MAX);
}

TEST(PgLsn, RoundTrips) {
  for (const Lsn lsn : {Lsn{0}, Lsn{1}, Lsn{0xFFFFFFFF}, Lsn{0x100000000ULL}, Lsn{0xDEADBEEFCAFEBABEULL}, UINT64_MAX}) {
    EXPECT_EQ(parse_lsn(format_lsn(lsn)), lsn);
  }
}

TEST(PgLsn, RejectsMalformedText) {
  for (const char* bad : {"", "/", "0/", "/0", "0", "0/0/0", "g/0", "0/x", "1 /2", "0/ 1", "100000000/0", "0/100000000",
                          "-1/0", "+1/0"}) {
    EXPECT_FALSE(parse_lsn(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace pg2ch
