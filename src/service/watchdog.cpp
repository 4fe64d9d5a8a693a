#include "service/watchdog.h"

#include <systemd/sd-daemon.h>

namespace pg2ch::service {

Watchdog::Watchdog() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) interval_ = std::chrono::microseconds(usec);
}

void Watchdog::beat() {
  if (!enabled()) return;
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  std::int64_t last = last_sent_us_.load(std::memory_order_relaxed);
  if (last != 0 && now - last < interval_.count() / 3) return;
  // One thread wins the slot; the others see the new time and return.
  if (!last_sent_us_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  (void)sd_notify(0, "WATCHDOG=1");
}

}  // namespace pg2ch::service
