#pragma once
// Fails the run when one test hangs: a test that has run longer than the limit (all of them take
// under a minute) prints its name and aborts the binary, whose exit guardian then stops the
// servers. Without it a hang (a deadlock between pg2ch and the test's own session, say) held its
// ctest shard for the 40-minute shard timeout and named no test.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace pg2ch::test {

class TestWatchdog : public ::testing::EmptyTestEventListener {
 public:
  explicit TestWatchdog(std::chrono::seconds limit);
  ~TestWatchdog() override;

  void OnTestStart(const ::testing::TestInfo& info) override;
  void OnTestEnd(const ::testing::TestInfo& info) override;

 private:
  void watch();

  const std::chrono::seconds limit_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string running_;  // the test running, empty between tests
  std::chrono::steady_clock::time_point deadline_{};
  bool done_ = false;
  std::thread thread_;  // last: started once the members it reads exist
};

}  // namespace pg2ch::test
