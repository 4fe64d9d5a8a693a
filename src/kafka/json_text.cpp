#include "kafka/json_text.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace pg2ch::kafka {

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(n >> s) & 63]);
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    const std::uint32_t n = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

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

namespace {

template <typename F>
std::string shortest(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

std::string float_text(double v) { return shortest(v); }
std::string float_text(float v) { return shortest(v); }

}  // namespace pg2ch::kafka
