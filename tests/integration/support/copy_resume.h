#pragma once
// The figures of an initial copy resumed after a SIGKILL (logical snapshot, outbox copy): the
// second run copied about what the first left, not the table again.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

namespace pg2ch::test {

// `table_rows`: the table's rows before the runs (a writer adds some); `ranges_logged`: ranges the
// first run logged as copied before the kill; from the second run's log: `total` ranges in the
// plan, `done_before` rows in ranges recorded done, `copied_now` rows it copied; `log` for messages.
inline void expect_copied_about_what_was_left(long table_rows, std::size_t ranges_logged, long total, long done_before,
                                              long copied_now, const std::string& log) {
  std::cout << "[ resume   ] " << total << " ranges, " << done_before << " rows done before the kill, " << copied_now
            << " copied by the second run (table " << table_rows << " rows + the writer's)\n";
  ASSERT_GT(total, 10) << log;
  const long per_range = table_rows / total + 1;
  EXPECT_GE(done_before, (static_cast<long>(ranges_logged) - 1) * per_range / 2) << log;
  // What was left, plus at most the two ranges the workers were in when killed, plus the writer's rows.
  EXPECT_LE(copied_now, table_rows - done_before + 2 * per_range + 20000) << log;
  EXPECT_LT(copied_now, table_rows * 9 / 10) << "copied nearly the whole table again: " << log;
}

}  // namespace pg2ch::test
