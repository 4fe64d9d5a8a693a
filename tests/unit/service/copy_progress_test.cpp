#include "service/copy_progress.h"

#include <gtest/gtest.h>

namespace pg2ch::service {
namespace {

TEST(CopyProgress, PercentRateAndEtaFromTheEstimates) {
  const std::vector<CopyTableProgress> tables = {
      {"public.big", 1000000, 250000}, {"public.small", 1000, 1000}, {"public.next", 50000, 0}};
  const std::string line = format_copy_progress(tables, 10.0);
  // 251,000 of ~1,051,000 rows in 10 s: 25,100 rows/s, 800,000 left: about 32 s.
  EXPECT_NE(line.find("23% (251000 of ~1051000 rows)"), std::string::npos) << line;
  EXPECT_NE(line.find("25100 rows/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 32 s"), std::string::npos) << line;
  EXPECT_NE(line.find("public.big 250000 rows (25%)"), std::string::npos) << line;
  EXPECT_EQ(line.find("public.small"), std::string::npos) << "a finished table is not listed: " << line;
}

TEST(CopyProgress, NoEtaWhenATableWasNeverAnalysed) {
  const std::vector<CopyTableProgress> tables = {{"public.fresh", -1, 1234}};
  const std::string line = format_copy_progress(tables, 2.0);
  EXPECT_NE(line.find("1234 rows, 617 rows/s"), std::string::npos) << line;
  EXPECT_EQ(line.find("ETA"), std::string::npos) << line;
  EXPECT_NE(line.find("; public.fresh 1234 rows"), std::string::npos) << line;
  EXPECT_EQ(line.find("?"), std::string::npos) << "no guess shown: " << line;
}

TEST(CopyProgress, TheFinalLineSaysFinishedWithTotals) {
  const std::vector<CopyTableProgress> tables = {{"public.a", -1, 600}, {"public.b", 100, 400}};
  const std::string line = format_copy_progress(tables, 2.0, true);
  EXPECT_EQ(line, "initial copy finished: 2 tables, 1000 rows in 2 s, 500 rows/s");
}

}  // namespace
}  // namespace pg2ch::service
