#pragma once
// PostgreSQL log sequence numbers: a 64-bit WAL byte position, printed as "XXXXXXXX/XXXXXXXX".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pg2ch {

using Lsn = std::uint64_t;
inline constexpr Lsn kInvalidLsn = 0;

std::string format_lsn(Lsn lsn);
std::optional<Lsn> parse_lsn(std::string_view text);

}  // namespace pg2ch
