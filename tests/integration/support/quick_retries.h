#pragma once
// Service retries in fractions of a second, for tests that make a server misbehave and want the
// pipeline back at once when it behaves again (the defaults back off to a minute).
#include <chrono>

#include "config/config.h"

namespace pg2ch::test {

inline config::Config with_quick_retries(config::Config cfg) {
  cfg.service.retry_initial = std::chrono::milliseconds(100);
  cfg.service.retry_max = std::chrono::milliseconds(500);
  return cfg;
}

}  // namespace pg2ch::test
