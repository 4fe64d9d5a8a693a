#pragma once
// PostgreSQL snapshots (pg_snapshot text "xmin:xmax:xip,...") and the 32-bit → 64-bit
// transaction id arithmetic the visibility horizon needs. Pure functions: unit-tested without a
// server (tests/unit/capture/poll/).
//
// Why the epoch math: a row's `xmin` system column is a 32-bit xid, while pg_snapshot and
// pg_visible_in_snapshot() work on xid8 (epoch << 32 | xid). Every xmin we compare was assigned
// before the snapshot's xmax, and within 2^31 of it (PostgreSQL forces freezing long before
// that), so it belongs to xmax's epoch when its low bits are <= xmax's, else to the epoch before.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg2ch::capture::poll {

struct PgSnapshot {
  std::uint64_t xmin = 0;               // every xid below is finished
  std::uint64_t xmax = 0;               // every xid at or above was not yet assigned
  std::vector<std::uint64_t> xip;       // in progress at snapshot time (xmin <= x < xmax)
};

// Parses pg_snapshot's text form; nullopt when malformed.
std::optional<PgSnapshot> parse_pg_snapshot(std::string_view text);

// The full xid of a 32-bit xid taken from a row, relative to `snapshot_xmax` (see above).
std::uint64_t xid8_from_xid32(std::uint32_t xid, std::uint64_t snapshot_xmax);

// The two constants the rescan query needs to do the same conversion in SQL:
// epoch = xmax >> 32, low = xmax & 0xffffffff.
struct XmaxParts {
  std::uint64_t epoch;
  std::uint32_t low;
};
XmaxParts split_xmax(std::uint64_t snapshot_xmax);

// pg_visible_in_snapshot() in C++: whether a transaction's effects are visible in `s` (assuming it
// committed). Used by the unit tests to check the SQL filter's logic, and by nothing on the hot path.
bool visible_in_snapshot(std::uint64_t xid8, const PgSnapshot& s);

}  // namespace pg2ch::capture::poll
