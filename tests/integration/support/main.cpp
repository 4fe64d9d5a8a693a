// Entry point of the integration test binary: one server environment for all tests.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "support/test_environment.h"
#include "support/test_watchdog.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // GoogleTest owns and deletes the environment.
  ::testing::AddGlobalTestEnvironment(new pg2ch::test::ServerEnvironment);
  // The longest test takes about a minute on a loaded machine; ten is a hang. PG2CH_TEST_HANG_S
  // overrides it (scripts/fault.sh, whose full kill count makes tests long).
  const char* hang = std::getenv("PG2CH_TEST_HANG_S");
  const std::chrono::seconds limit(hang ? std::atoll(hang) : 600);
  ::testing::UnitTest::GetInstance()->listeners().Append(new pg2ch::test::TestWatchdog(limit));
  return RUN_ALL_TESTS();
}
