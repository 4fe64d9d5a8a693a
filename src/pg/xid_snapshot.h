#pragma once
// A snapshot as pg_current_snapshot() prints it ("xmin:xmax:xip,xip,..."; full 64-bit xids), and
// whether a transaction the replication stream names by its 32-bit xid (pgoutput's Begin, Stream
// Commit) is visible to it: committed before the snapshot was taken, for snapshot purposes.
//
// The 32-bit xid is widened against xmax as transaction_visibility.h does in SQL: the full xid
// nearest xmax, taken as at or above it (in flight, invisible) when less than 2^24 above, else
// in the past. A transaction the stream applied has committed, so only the past case matters in
// practice; the other keeps an xid assigned after the snapshot invisible.
//
// Errors: ProtocolError for text that is not a snapshot.
#include <cstdint>
#include <string_view>
#include <vector>

namespace pg2ch::pg {

struct XidSnapshot {
  std::uint64_t xmin = 0;
  std::uint64_t xmax = 0;
  std::vector<std::uint64_t> xip;  // in progress when the snapshot was taken (sorted)

  static XidSnapshot parse(std::string_view text);
  bool sees(std::uint32_t xid) const;
};

}  // namespace pg2ch::pg
