#include "service/backoff.h"

#include <algorithm>

namespace pg2ch::service {

std::chrono::milliseconds Backoff::ceiling() const {
  // 2^attempt without overflow: past 30 doublings any initial delay is beyond any sane cap.
  const auto shift = std::min(attempt_, 30);
  const auto grown = initial_.count() * (std::int64_t{1} << shift);
  return std::chrono::milliseconds(std::min<std::int64_t>(grown, cap_.count()));
}

std::chrono::milliseconds Backoff::next() {
  const auto top = ceiling();
  ++attempt_;
  std::uniform_int_distribution<std::int64_t> pick(top.count() / 2, top.count());
  return std::max(std::chrono::milliseconds(pick(rng_)), floor);
}

}  // namespace pg2ch::service
