#pragma once
// systemd's watchdog (WatchdogSec= in the unit, sd_watchdog_enabled(3)): WATCHDOG=1 is sent only
// when the loop that does the work says it is alive (capture::RunOptions::alive()), never from a
// timer thread, so a loop stuck in a call that does not return (a ClickHouse that accepts
// connections and never answers) stops the pings and systemd restarts the process.
//
// beat() is cheap and thread-safe (snapshot workers call it too): it sends at most one datagram
// per third of the watchdog interval. Without WATCHDOG_USEC in the environment it does nothing.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace pg2ch::service {

class Watchdog {
 public:
  Watchdog();  // reads WATCHDOG_USEC / WATCHDOG_PID through sd_watchdog_enabled()

  bool enabled() const { return interval_.count() > 0; }
  std::chrono::microseconds interval() const { return interval_; }
  void beat();

 private:
  std::chrono::microseconds interval_{0};
  std::atomic<std::int64_t> last_sent_us_{0};  // steady clock, microseconds
};

}  // namespace pg2ch::service
