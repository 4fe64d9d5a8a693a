#pragma once
// Bounds an orderly stop ([service] stop_timeout_ms): once `stop` is set, the process has that
// long to write and acknowledge what it holds; after that it exits 0 at once, acknowledging
// nothing more (what was not written is read again on the next start, so nothing is lost). A
// ClickHouse that accepts connections and never answers cannot keep a stopping service alive
// for the HTTP client's retries (minutes).
//
// A thread looks at the flag every 50 ms: the flag is set by a signal handler, which can do
// nothing else safely.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace pg2ch::service {

class StopDeadline {
 public:
  StopDeadline(const std::atomic<bool>& stop, std::chrono::milliseconds timeout);
  ~StopDeadline();  // the work ended in time: the thread ends too
  StopDeadline(const StopDeadline&) = delete;
  StopDeadline& operator=(const StopDeadline&) = delete;

 private:
  void watch();

  const std::atomic<bool>& stop_;
  const std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace pg2ch::service
