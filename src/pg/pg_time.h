#pragma once
// PostgreSQL timestamps on the wire (replication protocol, pgoutput commit times) are int64
// microseconds since 2000-01-01 00:00:00 UTC; everything else in pg2ch uses the Unix epoch.
// Conversions saturate instead of overflowing because the input comes from the network and a
// corrupt value must not become undefined behaviour.
#include <chrono>
#include <cstdint>
#include <limits>

namespace pg2ch::pg {

// 2000-01-01 minus 1970-01-01: 10957 days.
inline constexpr std::int64_t kPgEpochUnixMicros = 946'684'800'000'000;

constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  }
  return r;
}

constexpr std::int64_t unix_to_pg_micros(std::int64_t unix_micros) noexcept {
  return saturating_add(unix_micros, -kPgEpochUnixMicros);
}
constexpr std::int64_t pg_to_unix_micros(std::int64_t pg_micros) noexcept {
  return saturating_add(pg_micros, kPgEpochUnixMicros);
}

inline std::int64_t unix_now_micros() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
// "Now" as the server expects it in a standby status update.
inline std::int64_t pg_now_micros() noexcept { return unix_to_pg_micros(unix_now_micros()); }

}  // namespace pg2ch::pg
