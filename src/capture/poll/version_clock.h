#pragma once
// The `_version` of rows read by the poll and notify captures.
//
// ReplacingMergeTree keeps the highest _version per key, so versions of one key must follow
// commit order. The watermark value cannot provide that: with `updated_at = now()`, a transaction
// that started earlier but committed later writes a *smaller* timestamp than the version it
// replaces. The read time can: pages are read one after another on one connection, each in a
// snapshot taken after the previous page's, so a later read sees the same or a newer version of
// every row. The version is the page's clock_timestamp() in microseconds since 1970, forced
// strictly increasing within the process (two pages in the same microsecond, or a clock step
// back, still get increasing versions). Across restarts it relies on the wall clock moving
// forward, as any timestamp-based version does.
#include <algorithm>
#include <cstdint>

namespace pg2ch::capture::poll {

class VersionClock {
 public:
  std::uint64_t next(std::int64_t read_time_us) {
    const std::uint64_t t = read_time_us > 0 ? static_cast<std::uint64_t>(read_time_us) : 0;
    last_ = std::max(last_ + 1, t);
    return last_;
  }
  std::uint64_t last() const { return last_; }

 private:
  std::uint64_t last_ = 0;
};

}  // namespace pg2ch::capture::poll
