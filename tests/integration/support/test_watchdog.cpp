#include "support/test_watchdog.h"

#include <cstdio>
#include <cstdlib>

namespace pg2ch::test {

TestWatchdog::TestWatchdog(std::chrono::seconds limit) : limit_(limit), thread_([this] { watch(); }) {}

TestWatchdog::~TestWatchdog() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void TestWatchdog::OnTestStart(const ::testing::TestInfo& info) {
  {
    std::lock_guard lock(mutex_);
    running_ = std::string(info.test_suite_name()) + "." + info.name();
    deadline_ = std::chrono::steady_clock::now() + limit_;
  }
  changed_.notify_all();
}

void TestWatchdog::OnTestEnd(const ::testing::TestInfo&) {
  {
    std::lock_guard lock(mutex_);
    running_.clear();
  }
  changed_.notify_all();
}

void TestWatchdog::watch() {
  std::unique_lock lock(mutex_);
  while (!done_) {
    if (running_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const std::string test = running_;
    if (changed_.wait_until(lock, deadline_) == std::cv_status::timeout && running_ == test &&
        std::chrono::steady_clock::now() >= deadline_) {
      std::fprintf(stderr, "\n[  HUNG    ] %s has run for more than %lld s: aborting the test binary\n", test.c_str(),
                   static_cast<long long>(limit_.count()));
      std::fflush(stderr);
      std::abort();
    }
  }
}

}  // namespace pg2ch::test
