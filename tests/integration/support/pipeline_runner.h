#pragma once
// Runs the configured capture mode (`pg2ch run`) in-process on a thread, for tests that do not need to
// kill a separate process. stop() asks it to finish like SIGTERM does and rethrows its error.
//
// Every live runner is registered: wait_until() (support/wait.h) checks them between looks and
// throws PipelineDied as soon as one failed, naming it and its error, so a dead pipeline fails its
// test at once with the cause instead of after the wait's timeout. A test that expects its
// pipeline to fail says so with expect_failure().
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "capture/capture_mode.h"
#include "service/pipeline_loop.h"
#include "config/config.h"

namespace pg2ch::test {

struct PipelineDied : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class PipelineRunner {
 public:
  explicit PipelineRunner(config::Config cfg);
  PipelineRunner(const PipelineRunner&) = delete;
  PipelineRunner& operator=(const PipelineRunner&) = delete;
  ~PipelineRunner();

  bool failed() const { return failed_; }
  // Has run() reported that it reads changes (targets ensured, snapshot taken)?
  bool ready() const { return ready_; }
  // Waits until ready(); throws PipelineDied when the pipeline failed first, or when it is not
  // ready within `timeout` (it hangs in start-up: the message says so).
  void wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // This runner's failure is what the test is about: wait_until() does not throw for it.
  void expect_failure() { expect_failure_ = true; }
  // Stops the pipeline and rethrows what it failed with, if anything.
  void stop();

  // "mode poll (pipeline poll_producer): <error>" — for messages.
  std::string describe() const;
  // Throws PipelineDied for the first registered runner that failed unexpectedly.
  static void throw_if_any_died();

 private:
  config::Config cfg_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<bool> ready_{false};
  std::atomic<bool> expect_failure_{false};
  std::exception_ptr error_;
  std::string error_text_;  // written before failed_ is set
  std::thread thread_;
};

}  // namespace pg2ch::test
