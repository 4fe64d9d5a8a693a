#include "capture/poll/pg_snapshot.h"

#include <algorithm>
#include <charconv>

namespace pg2ch::capture::poll {

namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end;
}

}  // namespace

std::optional<PgSnapshot> parse_pg_snapshot(std::string_view text) {
  const auto c1 = text.find(':');
  if (c1 == std::string_view::npos) return std::nullopt;
  const auto c2 = text.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return std::nullopt;
  PgSnapshot s;
  if (!parse_u64(text.substr(0, c1), s.xmin) || !parse_u64(text.substr(c1 + 1, c2 - c1 - 1), s.xmax)) {
    return std::nullopt;
  }
  if (s.xmin > s.xmax) return std::nullopt;
  std::string_view rest = text.substr(c2 + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::uint64_t x = 0;
    if (!parse_u64(rest.substr(0, comma), x) || x < s.xmin || x >= s.xmax) return std::nullopt;
    s.xip.push_back(x);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
    if (rest.empty()) return std::nullopt;  // trailing comma
  }
  return s;
}

XmaxParts split_xmax(std::uint64_t snapshot_xmax) {
  return {snapshot_xmax >> 32, static_cast<std::uint32_t>(snapshot_xmax & 0xffffffffu)};
}

std::uint64_t xid8_from_xid32(std::uint32_t xid, std::uint64_t snapshot_xmax) {
  const XmaxParts x = split_xmax(snapshot_xmax);
  std::uint64_t epoch = x.epoch;
  // Above xmax's low bits: assigned before the last wraparound of the 32-bit counter.
  if (xid > x.low && epoch > 0) --epoch;
  return (epoch << 32) | xid;
}

bool visible_in_snapshot(std::uint64_t xid8, const PgSnapshot& s) {
  if (xid8 < s.xmin) return true;
  if (xid8 >= s.xmax) return false;
  return std::find(s.xip.begin(), s.xip.end(), xid8) == s.xip.end();
}

}  // namespace pg2ch::capture::poll
