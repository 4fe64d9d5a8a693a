#include "pg/xid_snapshot.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/error.h"

namespace pg2ch::pg {
namespace {

std::uint64_t number(std::string_view text, std::string_view whole) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw ProtocolError(fmt::format("not a snapshot (xmin:xmax:xip,...): '{}'", whole));
  }
  return v;
}

}  // namespace

XidSnapshot XidSnapshot::parse(std::string_view text) {
  const auto first = text.find(':');
  const auto second = first == std::string_view::npos ? first : text.find(':', first + 1);
  if (second == std::string_view::npos) throw ProtocolError(fmt::format("not a snapshot (xmin:xmax:xip,...): '{}'", text));
  XidSnapshot s;
  s.xmin = number(text.substr(0, first), text);
  s.xmax = number(text.substr(first + 1, second - first - 1), text);
  std::string_view rest = text.substr(second + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    s.xip.push_back(number(rest.substr(0, comma), text));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  std::sort(s.xip.begin(), s.xip.end());
  return s;
}

bool XidSnapshot::sees(std::uint32_t xid) const {
  constexpr std::uint64_t kInFlightAbove = std::uint64_t{1} << 24;
  const auto above = static_cast<std::uint32_t>(xid - static_cast<std::uint32_t>(xmax));  // (xid - xmax) mod 2^32
  if (above < kInFlightAbove) return false;  // at or above xmax: not yet complete when taken
  const std::uint64_t below = (std::uint64_t{1} << 32) - above;
  if (below > xmax) return true;  // older than this server's xids: long complete
  const std::uint64_t full = xmax - below;
  if (full < xmin) return true;
  return !std::binary_search(xip.begin(), xip.end(), full);
}

}  // namespace pg2ch::pg
