#pragma once
// Capped exponential backoff with "equal jitter" (AWS architecture blog, "Exponential Backoff And
// Jitter"): attempt n waits a uniformly random time in [c/2, c] with c = min(cap, initial * 2^n),
// so many pg2ch instances that lost the same server do not come back at the same instant, and
// no retry comes sooner than half its step (full jitter's near-zero waits would hammer a server
// that is restarting). Never returns less than `floor`.
#include <chrono>
#include <cstdint>
#include <random>

namespace pg2ch::service {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap, std::uint64_t seed = std::random_device{}())
      : initial_(initial), cap_(std::max(cap, initial)), rng_(seed) {}

  // The wait before the next attempt; each call doubles the ceiling up to the cap.
  std::chrono::milliseconds next();
  // The ceiling the next call draws under (for logs and tests).
  std::chrono::milliseconds ceiling() const;
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

  static constexpr std::chrono::milliseconds floor{50};

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds cap_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace pg2ch::service
