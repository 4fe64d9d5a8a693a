#pragma once
// Text forms the JSON encoder shares: base64, ISO 8601 instants, shortest round-trip floats.
#include <cstdint>
#include <string>
#include <string_view>

namespace pg2ch::kafka {

std::string base64(std::string_view bytes);
// Microseconds since 1970-01-01 UTC → "2024-05-01T10:00:00.5Z", the way Java's
// ISO_OFFSET_DATE_TIME prints an instant (no fraction when zero, trailing zeros dropped; years
// beyond 9999 get a '+', years before 1 are "-0001" style, like java.time).
std::string iso_instant(std::int64_t micros_since_epoch);
// Shortest text that reads back to the same value, with ".0" on integral values (Jackson's
// form); NaN and ±Infinity are returned as "NaN", "Infinity", "-Infinity" (to be quoted).
std::string float_text(double v);
std::string float_text(float v);
// Civil date from days since 1970-01-01 (proleptic Gregorian).
struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};
CivilDate civil_from_days(std::int64_t days);

}  // namespace pg2ch::kafka
