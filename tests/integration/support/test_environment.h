#pragma once
// The GoogleTest global environment: one PostgreSQL and one ClickHouse for the whole binary.
// main.cpp installs it; tests reach the servers through servers.h.
#include <gtest/gtest.h>

namespace pg2ch::test {

class ServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
};

}  // namespace pg2ch::test
