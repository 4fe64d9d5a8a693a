#include "service/stop_deadline.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

namespace pg2ch::service {

StopDeadline::StopDeadline(const std::atomic<bool>& stop, std::chrono::milliseconds timeout)
    : stop_(stop), timeout_(timeout), thread_([this] { watch(); }) {}

StopDeadline::~StopDeadline() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StopDeadline::watch() {
  std::unique_lock lock(mutex_);
  while (!done_ && !stop_.load()) cv_.wait_for(lock, std::chrono::milliseconds(50));
  if (done_) return;
  if (cv_.wait_for(lock, timeout_, [this] { return done_; })) return;
  spdlog::warn("the orderly stop took longer than service.stop_timeout_ms = {}: exiting without acknowledging what "
               "is not yet written (it is read again on the next start)",
               timeout_.count());
  spdlog::default_logger()->flush();
  ::_exit(0);
}

}  // namespace pg2ch::service
