#pragma once
// Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
// Jitter"): attempt n waits a uniformly random time in [0, min(cap, initial * 2^n)], so many
// pg2ch instances that lost the same server do not come back at the same instant. Never returns
// less than `floor` so a retry loop cannot spin.
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
