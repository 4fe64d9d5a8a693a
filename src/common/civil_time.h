#pragma once
// Civil dates and instants from day and microsecond counts since 1970-01-01 (proleptic
// Gregorian, UTC): for JSON events and for error messages that show a value.
#include <cstdint>
#include <string>

namespace pg2ch {

struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};
CivilDate civil_from_days(std::int64_t days);
// Days since 1970-01-01 of a proleptic Gregorian date; the inverse of civil_from_days. The caller
// checks that month and day are valid.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
// Microseconds since 1970-01-01 UTC → "2024-05-01T10:00:00.5Z", the way Java's
// ISO_OFFSET_DATE_TIME prints an instant (no fraction when zero, trailing zeros dropped; years
// beyond 9999 get a '+', years before 1 are "-0001" style, like java.time).
std::string iso_instant(std::int64_t micros_since_epoch);

}  // namespace pg2ch
