#pragma once
// Sleeping in a loop that must notice `stop` (SIGTERM) within a tenth of a second: capture loops
// waiting for their next poll, the service's retry backoff.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

namespace pg2ch {

inline void sleep_unless_stopped(std::chrono::milliseconds duration, const std::atomic<bool>& stop) {
  constexpr std::chrono::milliseconds kSlice{100};
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!stop.load()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    std::this_thread::sleep_for(std::min(left, kSlice));
  }
}

}  // namespace pg2ch
