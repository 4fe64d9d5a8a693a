// Entry point of the integration test binary: one server environment for all tests.
#include <gtest/gtest.h>

#include "support/test_environment.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // GoogleTest owns and deletes the environment.
  ::testing::AddGlobalTestEnvironment(new pg2ch::test::ServerEnvironment);
  return RUN_ALL_TESTS();
}
