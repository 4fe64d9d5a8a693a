#pragma once
// Retries an operation on errors that say they are retriable (Error::retriable()), with
// exponential backoff; anything else, or the last failure, propagates unchanged.
#include <chrono>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/error.h"

namespace pg2ch::pipeline {

struct RetryPolicy {
  int max_attempts = 6;
  std::chrono::milliseconds first_delay{500};
  std::chrono::milliseconds max_delay{8000};
};

template <typename F>
auto with_retries(const RetryPolicy& policy, std::string_view what, F&& op) -> decltype(op()) {
  auto delay = policy.first_delay;
  for (int attempt = 1;; ++attempt) {
    try {
      return op();
    } catch (const Error& e) {
      if (!e.retriable() || attempt >= policy.max_attempts) throw;
      spdlog::warn("{} failed (attempt {}/{}), retrying in {} ms: {}", what, attempt, policy.max_attempts,
                   delay.count(), e.what());
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, policy.max_delay);
    }
  }
}

}  // namespace pg2ch::pipeline
