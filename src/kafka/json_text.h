#pragma once
// Text forms the JSON encoder shares: base64, ISO 8601 instants, shortest round-trip floats.
// The parsers (used by the JSON decoder) accept what the writers produce and return nullopt for
// anything else, so the caller can say which value and type it was reading.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/civil_time.h"

namespace pg2ch::kafka {

std::string base64(std::string_view bytes);
// Shortest text that reads back to the same value, with ".0" on integral values (Jackson's
// form); NaN and ±Infinity are returned as "NaN", "Infinity", "-Infinity" (to be quoted).
std::string float_text(double v);
std::string float_text(float v);
// Civil dates and ISO 8601 instants live in common/civil_time.h; the JSON code names them here.
using pg2ch::CivilDate;
using pg2ch::civil_from_days;
using pg2ch::days_from_civil;
using pg2ch::iso_instant;

// Inverse of base64(): standard alphabet, '=' padding required, no whitespace. Text that base64()
// could not have written (bad length, stray characters, non-zero bits in the last character
// before the padding) is rejected rather than decoded to some nearby bytes.
std::optional<std::string> base64_decode(std::string_view text);
// Inverse of iso_instant(): microseconds since 1970-01-01 UTC. Also takes what other writers of
// ISO 8601 instants produce: a numeric offset ("+02:00", "-05:30", "+05:30:15") instead of 'Z',
// and 1..9 fraction digits as long as digits beyond the sixth are zero (a µs instant has no
// more). nullopt for malformed text, an invalid date or time, or an instant beyond int64 µs.
std::optional<std::int64_t> parse_iso_instant(std::string_view text);

}  // namespace pg2ch::kafka
