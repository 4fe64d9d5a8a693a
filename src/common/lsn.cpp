#include "common/lsn.h"

#include <charconv>
#include <fmt/format.h>

namespace pg2ch {

std::string format_lsn(Lsn lsn) {
  return fmt::format("{:X}/{:X}", static_cast<std::uint32_t>(lsn >> 32), static_cast<std::uint32_t>(lsn));
}

std::optional<Lsn> parse_lsn(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) return std::nullopt;
  std::uint32_t hi = 0, lo = 0;
  const char* end = text.data() + slash;
  auto r1 = std::from_chars(text.data(), end, hi, 16);
  if (r1.ec != std::errc() || r1.ptr != end) return std::nullopt;
  const char* lo_end = text.data() + text.size();
  auto r2 = std::from_chars(end + 1, lo_end, lo, 16);
  if (r2.ec != std::errc() || r2.ptr != lo_end) return std::nullopt;
  return (static_cast<Lsn>(hi) << 32) | lo;
}

}  // namespace pg2ch
