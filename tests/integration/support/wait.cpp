#include "support/wait.h"

#include <thread>

#include "support/pipeline_runner.h"

namespace pg2ch::test {

bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (predicate()) return true;
    // What the test waits for may never come because a pipeline under test died: say so now.
    PipelineRunner::throw_if_any_died();
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(interval, deadline - now));
  }
}

}  // namespace pg2ch::test
