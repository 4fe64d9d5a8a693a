#include "kafka/json_text.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <optional>

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

namespace {

int base64_digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const std::string_view quad = text.substr(i, 4);
    // Only the last quad may be padded, with one or two '='.
    const bool last = i + 4 == text.size();
    const int pad = !last || quad[3] != '=' ? 0 : quad[2] == '=' ? 2 : 1;
    std::uint32_t n = 0;
    for (int k = 0; k < 4; ++k) {
      const int d = k < 4 - pad ? base64_digit(quad[static_cast<std::size_t>(k)]) : 0;
      if (d < 0) return std::nullopt;
      n = n << 6 | static_cast<std::uint32_t>(d);
    }
    // Bits below the last whole byte must be zero, or two texts would decode to the same bytes.
    if ((pad == 1 && (n & 0xFF) != 0) || (pad == 2 && (n & 0xFFFF) != 0)) return std::nullopt;
    out.push_back(static_cast<char>(n >> 16));
    if (pad < 2) out.push_back(static_cast<char>(n >> 8 & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xFF));
  }
  return out;
}

namespace {

// A left-to-right reader for the fixed layout of an ISO 8601 instant.
class IsoScanner {
 public:
  explicit IsoScanner(std::string_view s) : s_(s) {}

  bool at_end() const { return pos_ == s_.size(); }
  bool skip(char c) {
    if (pos_ == s_.size() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  std::size_t digit_run() const {
    std::size_t n = 0;
    while (pos_ + n < s_.size() && s_[pos_ + n] >= '0' && s_[pos_ + n] <= '9') ++n;
    return n;
  }
  // Exactly n digits (n <= 18, so no overflow); nullopt when fewer are there.
  std::optional<std::int64_t> digits(std::size_t n) {
    if (digit_run() < n) return std::nullopt;
    std::int64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v * 10 + (s_[pos_ + i] - '0');
    pos_ += n;
    return v;
  }
  // Two digits at most `max`, optionally preceded by `sep`.
  std::optional<std::int64_t> field(char sep, std::int64_t max) {
    if (sep != '\0' && !skip(sep)) return std::nullopt;
    const auto v = digits(2);
    if (!v || *v > max) return std::nullopt;
    return v;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

bool is_leap_year(std::int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

unsigned days_in_month(std::int64_t year, std::int64_t month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// Java's form: four digits for 0000..9999, '+' and more digits beyond, '-' and at least four
// digits before year 0. Six digits cover every year an int64 µs instant can reach.
std::optional<std::int64_t> iso_year(IsoScanner& in) {
  const bool plus = in.skip('+');
  const bool minus = !plus && in.skip('-');
  const std::size_t n = in.digit_run();
  if (n < 4 || n > 6 || (!plus && !minus && n != 4)) return std::nullopt;
  const auto y = in.digits(n);
  return minus ? -*y : *y;
}

// µs of the fraction after the seconds: 1..9 digits, those past the sixth must be zero.
std::optional<std::int64_t> iso_fraction(IsoScanner& in) {
  if (!in.skip('.')) return 0;
  const std::size_t n = in.digit_run();
  if (n == 0 || n > 9) return std::nullopt;
  const std::int64_t v = *in.digits(n);
  std::int64_t micros = v;
  for (std::size_t i = n; i < 6; ++i) micros *= 10;
  for (std::size_t i = 6; i < n; ++i) {
    if (micros % 10 != 0) return std::nullopt;
    micros /= 10;
  }
  return micros;
}

// Seconds east of UTC: 'Z' or ±hh:mm[:ss].
std::optional<std::int64_t> iso_offset(IsoScanner& in) {
  if (in.skip('Z')) return 0;
  const bool minus = in.skip('-');
  if (!minus && !in.skip('+')) return std::nullopt;
  const auto h = in.field('\0', 18);
  const auto m = in.field(':', 59);
  if (!h || !m) return std::nullopt;
  std::int64_t secs = *h * 3600 + *m * 60;
  if (!in.at_end()) {
    const auto s = in.field(':', 59);
    if (!s) return std::nullopt;
    secs += *s;
  }
  return minus ? -secs : secs;
}

}  // namespace

std::optional<std::int64_t> parse_iso_instant(std::string_view text) {
  IsoScanner in(text);
  const auto year = iso_year(in);
  const auto month = year ? in.field('-', 12) : std::nullopt;
  const auto day = month ? in.field('-', 31) : std::nullopt;
  if (!day || *month < 1 || *day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
  const auto hour = in.field('T', 23);
  const auto minute = hour ? in.field(':', 59) : std::nullopt;
  const auto second = minute ? in.field(':', 59) : std::nullopt;
  const auto micros = second ? iso_fraction(in) : std::nullopt;
  const auto offset = micros ? iso_offset(in) : std::nullopt;
  if (!offset || !in.at_end()) return std::nullopt;

  constexpr std::int64_t kPerDay = 86'400'000'000;
  std::int64_t days = days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  std::int64_t rest = (*hour * 3600 + *minute * 60 + *second - *offset) * 1'000'000 + *micros;
  // Before 1970 the day's start can lie below INT64_MIN while the instant does not (iso_instant
  // of INT64_MIN): move one day into `rest` so the product stays in range.
  if (days < 0) {
    ++days;
    rest -= kPerDay;
  }
  std::int64_t out;
  if (__builtin_mul_overflow(days, kPerDay, &out) || __builtin_add_overflow(out, rest, &out)) return std::nullopt;
  return out;
}

}  // namespace pg2ch::kafka
