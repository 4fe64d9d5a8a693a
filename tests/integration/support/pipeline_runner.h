#pragma once
// Runs the configured capture mode (`pg2ch run`) in-process on a thread, for tests that do not need to
// kill a separate process. stop() asks it to finish like SIGTERM does and rethrows its error.
#include <atomic>
#include <exception>
#include <thread>

#include "capture/capture_mode.h"
#include "config/config.h"

namespace pg2ch::test {

class PipelineRunner {
 public:
  explicit PipelineRunner(config::Config cfg) : cfg_(std::move(cfg)) {
    thread_ = std::thread([this] {
      try {
        capture::capture_mode(cfg_.mode).run(cfg_, stop_, {});
      } catch (...) {
        error_ = std::current_exception();
        failed_ = true;
      }
    });
  }
  PipelineRunner(const PipelineRunner&) = delete;
  PipelineRunner& operator=(const PipelineRunner&) = delete;
  ~PipelineRunner() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  bool failed() const { return failed_; }
  // Stops the pipeline and rethrows what it failed with, if anything.
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  config::Config cfg_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace pg2ch::test
