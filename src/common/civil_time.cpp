#include "common/civil_time.h"

#include <fmt/format.h>

namespace pg2ch {

// Howard Hinnant's days_from_civil inverse (http://howardhinnant.github.io/date_algorithms.html).
CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<std::uint64_t>(z - era * 146097);
  const std::uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::uint64_t mp = (5 * doy + 2) / 153;
  const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return {y + (m <= 2), m, d};
}

std::string iso_instant(std::int64_t micros) {
  constexpr std::int64_t kPerDay = 86'400'000'000;
  std::int64_t days = micros / kPerDay;
  std::int64_t rem = micros % kPerDay;
  if (rem < 0) {
    rem += kPerDay;
    --days;
  }
  const CivilDate d = civil_from_days(days);
  const std::int64_t secs = rem / 1'000'000;
  const std::int64_t frac = rem % 1'000'000;
  std::string year;
  if (d.year > 9999) {
    year = fmt::format("+{}", d.year);
  } else if (d.year < 0) {
    year = fmt::format("-{:04}", -d.year);
  } else {
    year = fmt::format("{:04}", d.year);
  }
  std::string out = fmt::format("{}-{:02}-{:02}T{:02}:{:02}:{:02}", year, d.month, d.day, secs / 3600, secs / 60 % 60,
                                secs % 60);
  if (frac != 0) {
    std::string f = fmt::format("{:06}", frac);
    while (f.back() == '0') f.pop_back();
    out += '.';
    out += f;
  }
  out += 'Z';
  return out;
}

// Howard Hinnant's days_from_civil (same source as civil_from_days).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  const std::int64_t y = year - (month <= 2);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<std::uint64_t>(y - era * 400);
  const std::uint64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const std::uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace pg2ch
