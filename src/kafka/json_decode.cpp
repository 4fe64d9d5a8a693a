// NOTES
//
// Each decoder here undoes one branch of json_value.cpp and writes the typsend layout the
// ClickHouse codecs read (src/types): big-endian integers, and
//   numeric   int16 ndigits, int16 weight, uint16 sign, uint16 dscale, ndigits × int16 base-10000
//             digit — normalised like numeric_in/make_result (no leading or trailing zero digits,
//             zero is ndigits 0 weight 0 sign +), NaN/±Infinity as sign 0xC000/0xD000/0xF000
//             with no digits (dscale 0 for NaN, 32 for the infinities, as numeric_send writes)
//   interval  int64 µs, int32 days, int32 months
//   inet/cidr uint8 family (2 = IPv4, 3 = IPv6), uint8 prefix bits, uint8 is_cidr, uint8 address
//             length, address bytes
//   arrays    int32 ndim, int32 has-nulls, uint32 element oid, ndim × (int32 length, int32 lower
//             bound = 1), elements as int32 length (-1 = NULL) + bytes; an empty array is ndim 0
//
// What the JSON cannot carry, so a round trip gives equal values but different bytes:
//   - float NaN comes back as the canonical quiet NaN (what PostgreSQL itself produces); a NaN
//     with another sign or payload loses them.
//   - arrays: lower bounds other than 1, the has-nulls flag of an array that kept its null bitmap
//     after its last NULL was replaced, and the element oid of an array over a domain (the type
//     descriptor only knows the base type).
//   - timestamp(0..3) travels as whole milliseconds (floored); PostgreSQL rounds those columns to
//     their precision, so only values that are not valid for the column can lose digits.

#include "kafka/json_decode.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/error.h"
#include "kafka/json_text.h"
#include "types/pg_binary.h"

namespace pg2ch::kafka {
namespace {

namespace oid = types::oid;
using Json = rapidjson::Value;

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;
constexpr std::int64_t kPgEpochDays = 10957;  // 2000-01-01 - 1970-01-01
constexpr std::int64_t kPgEpochMicros = kPgEpochDays * kMicrosPerDay;
// PostgreSQL's valid ranges (datatype/timestamp.h), relative to 2000-01-01: from 4714-11-24 BC
// up to, not including, 5874898-01-01 for dates and 294277-01-01 for timestamps.
constexpr std::int64_t kMinDate = -2451545, kEndDate = 2145031949;
constexpr std::int64_t kMinTimestamp = -211813488000000000, kEndTimestamp = 9223371331200000000;
constexpr std::size_t kMaxNameBytes = 63;  // NAMEDATALEN - 1
constexpr std::size_t kMaxArrayDims = 6;   // MAXDIM

template <typename T>
void put(std::string& out, T v) {
  static_assert(std::is_integral_v<T>);
  const auto big_endian = types::pgbin::bswap(static_cast<std::make_unsigned_t<T>>(v));
  char bytes[sizeof big_endian];
  std::memcpy(bytes, &big_endian, sizeof bytes);
  out.append(bytes, sizeof bytes);
}

// ---- errors -------------------------------------------------------------------------------------

// The kind and size of what the JSON held, never its content: values must not reach messages
// (common/error.h).
std::string describe(const Json& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return fmt::format("an array of {} elements", v.Size());
    case rapidjson::kStringType: return fmt::format("a string of {} bytes", v.GetStringLength());
    case rapidjson::kNumberType: return v.IsInt64() || v.IsUint64() ? "an integer" : "a number with a fraction";
  }
  return "an unknown JSON value";
}

[[noreturn]] void mismatch(std::string_view type, std::string_view expected, const Json& got) {
  throw ProtocolError(fmt::format("expected {} for {}, got {}", expected, type, describe(got)));
}

// A string of the right kind whose text does not parse.
[[noreturn]] void malformed(std::string_view type, std::string_view expected, const Json& got) {
  throw ProtocolError(fmt::format("expected {} for {}, got {} that is not one", expected, type, describe(got)));
}

[[noreturn]] void out_of_range(std::string_view type, std::string_view what) {
  throw ProtocolError(fmt::format("{} value out of range: {}", type, what));
}

std::string_view string_of(const Json& v, std::string_view type, std::string_view expected) {
  if (!v.IsString()) mismatch(type, expected, v);
  return {v.GetString(), v.GetStringLength()};
}

std::int64_t integer(const Json& v, std::string_view type, std::string_view expected, std::int64_t lo,
                     std::int64_t hi) {
  if (!v.IsInt64() && !v.IsUint64()) mismatch(type, expected, v);
  if (!v.IsInt64() || v.GetInt64() < lo || v.GetInt64() > hi)
    out_of_range(type, fmt::format("expected {} in {}..{}", expected, lo, hi));
  return v.GetInt64();
}

// ---- small text scanners ------------------------------------------------------------------------

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Two hex digits at `s[i]`, or -1.
int hex_byte(std::string_view s, std::size_t i) {
  const int hi = hex_digit(s[i]);
  const int lo = hex_digit(s[i + 1]);
  return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

std::size_t digit_run(std::string_view s, std::size_t pos) {
  std::size_t n = 0;
  while (pos + n < s.size() && s[pos + n] >= '0' && s[pos + n] <= '9') ++n;
  return n;
}

// "-"? digits ("." digits)?, the plain decimal numeric_out and BigDecimal.toPlainString write.
struct Decimal {
  bool negative = false;
  std::string_view integer;
  std::string_view fraction;
};

std::optional<Decimal> parse_decimal(std::string_view s) {
  Decimal d;
  std::size_t pos = 0;
  if (s.starts_with('-')) {
    d.negative = true;
    ++pos;
  }
  const std::size_t n = digit_run(s, pos);
  if (n == 0) return std::nullopt;
  d.integer = s.substr(pos, n);
  pos += n;
  if (pos == s.size()) return d;
  if (s[pos] != '.') return std::nullopt;
  d.fraction = s.substr(pos + 1);
  if (d.fraction.empty() || digit_run(s, pos + 1) != d.fraction.size()) return std::nullopt;
  return d;
}

// ---- scalars ------------------------------------------------------------------------------------

void boolean(const Json& v, std::string& out) {
  if (!v.IsBool()) mismatch("bool", "true or false", v);
  put<std::uint8_t>(out, v.GetBool() ? 1 : 0);
}

// JSON numbers, or the strings Jackson writes for what JSON has no number for.
template <typename F>
F floating(const Json& v, std::string_view type) {
  if (v.IsString()) {
    const std::string_view s(v.GetString(), v.GetStringLength());
    if (s == "NaN") return std::numeric_limits<F>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<F>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<F>::infinity();
    malformed(type, "a number, \"NaN\", \"Infinity\" or \"-Infinity\"", v);
  }
  // Integers convert straight from their exact value: going through double first would round twice.
  if (v.IsInt64()) return static_cast<F>(v.GetInt64());
  if (v.IsUint64()) return static_cast<F>(v.GetUint64());
  if (!v.IsNumber()) mismatch(type, "a number, \"NaN\", \"Infinity\" or \"-Infinity\"", v);
  const double d = v.GetDouble();
  const F f = static_cast<F>(d);
  // Like float4in: a finite number that does not fit is an error, not infinity or zero.
  if (std::isinf(f) || (f == 0 && d != 0)) out_of_range(type, "the number does not fit");
  return f;
}

void float4(const Json& v, std::string& out) { put(out, std::bit_cast<std::uint32_t>(floating<float>(v, "float4"))); }
void float8(const Json& v, std::string& out) { put(out, std::bit_cast<std::uint64_t>(floating<double>(v, "float8"))); }

// Sign words of numeric_send (numeric.c); PostgreSQL 14 added the infinities.
constexpr std::uint16_t kNumericPos = 0x0000, kNumericNeg = 0x4000, kNumericNaN = 0xC000, kNumericPosInf = 0xD000,
                        kNumericNegInf = 0xF000;
constexpr std::size_t kNumericMaxDscale = 0x3FFF;

// numeric_send reads dscale out of the special value's header word with the short-format mask
// (0x1F80 >> 7), so a real server sends 32 for ±Infinity and 0 for NaN; numeric_recv ignores it.
// Writing the same keeps the bytes identical to what PostgreSQL 15 sends.
void numeric_special(std::uint16_t sign, std::string& out) {
  put<std::int16_t>(out, 0);
  put<std::int16_t>(out, 0);
  put<std::uint16_t>(out, sign);
  put(out, static_cast<std::uint16_t>((sign & 0x1F80) >> 7));
}

// Decimal digit `i` of the integer digits left-padded to whole base-10000 groups, followed by the
// fraction right-padded the same way.
class GroupedDigits {
 public:
  GroupedDigits(std::string_view integer, std::string_view fraction)
      : integer_(integer), fraction_(fraction), lead_((4 - integer.size() % 4) % 4) {}

  std::size_t integer_groups() const { return (integer_.size() + 3) / 4; }
  std::size_t groups() const { return integer_groups() + (fraction_.size() + 3) / 4; }
  std::int16_t group(std::size_t g) const {
    int d = 0;
    for (std::size_t i = 4 * g; i < 4 * g + 4; ++i) d = d * 10 + digit(i);
    return static_cast<std::int16_t>(d);
  }

 private:
  int digit(std::size_t i) const {
    if (i < lead_) return 0;
    i -= lead_;
    if (i < integer_.size()) return integer_[i] - '0';
    i -= integer_.size();
    return i < fraction_.size() ? fraction_[i] - '0' : 0;
  }

  std::string_view integer_;
  std::string_view fraction_;
  std::size_t lead_;
};

void numeric(const Json& v, std::string& out) {
  constexpr std::string_view kExpected = "a decimal string (or \"NaN\", \"Infinity\", \"-Infinity\")";
  const std::string_view s = string_of(v, "numeric", kExpected);
  if (s == "NaN") return numeric_special(kNumericNaN, out);
  if (s == "Infinity") return numeric_special(kNumericPosInf, out);
  if (s == "-Infinity") return numeric_special(kNumericNegInf, out);
  auto d = parse_decimal(s);
  if (!d) malformed("numeric", kExpected, v);
  if (d->fraction.size() > kNumericMaxDscale) out_of_range("numeric", "more than 16383 fraction digits");
  const std::size_t first_nonzero = d->integer.find_first_not_of('0');
  d->integer = first_nonzero == std::string_view::npos ? std::string_view{} : d->integer.substr(first_nonzero);

  // Like make_result: leading and trailing zero groups are dropped, zero is positive weight 0.
  const GroupedDigits digits(d->integer, d->fraction);
  std::size_t begin = 0, end = digits.groups();
  while (begin < end && digits.group(begin) == 0) ++begin;
  while (end > begin && digits.group(end - 1) == 0) --end;
  const auto weight = static_cast<std::int64_t>(digits.integer_groups()) - 1 - static_cast<std::int64_t>(begin);
  if (weight > std::numeric_limits<std::int16_t>::max() ||
      end - begin > static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max()))
    out_of_range("numeric", "more digits than numeric holds");
  const bool zero = begin == end;
  put(out, static_cast<std::int16_t>(end - begin));
  put(out, static_cast<std::int16_t>(zero ? 0 : weight));
  put(out, d->negative && !zero ? kNumericNeg : kNumericPos);
  put(out, static_cast<std::uint16_t>(d->fraction.size()));
  for (std::size_t g = begin; g < end; ++g) put(out, digits.group(g));
}

// money_send: int64 cents (money.fraction.digits=2).
void money(const Json& v, std::string& out) {
  constexpr std::string_view kExpected = "an amount with at most 2 decimals as a string";
  const auto d = parse_decimal(string_of(v, "money", kExpected));
  if (!d || d->fraction.size() > 2) malformed("money", kExpected, v);
  const std::uint64_t limit = d->negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
  std::uint64_t cents = 0;
  auto shift_in = [&](char c) {
    if (__builtin_mul_overflow(cents, 10u, &cents) || __builtin_add_overflow(cents, unsigned(c - '0'), &cents) ||
        cents > limit)
      out_of_range("money", "the amount does not fit in 64-bit cents");
  };
  for (char c : d->integer) shift_in(c);
  for (std::size_t i = 0; i < 2; ++i) shift_in(i < d->fraction.size() ? d->fraction[i] : '0');
  put(out, d->negative ? static_cast<std::int64_t>(0 - cents) : static_cast<std::int64_t>(cents));
}

// text, varchar, bpchar, name, json, xml, enum labels: the bytes themselves.
void text(const Json& v, std::string_view type, std::string& out, std::size_t max_bytes = SIZE_MAX) {
  const std::string_view s = string_of(v, type, "a string");
  if (s.find('\0') != std::string_view::npos) malformed(type, "text without NUL characters", v);
  if (s.size() > max_bytes) out_of_range(type, fmt::format("longer than {} bytes", max_bytes));
  out.append(s);
}

void jsonb(const Json& v, std::string& out) {
  put<std::uint8_t>(out, 1);  // jsonb_send's format version
  text(v, "jsonb", out);
}

bool is_octal(char c) { return c >= '0' && c <= '7'; }

// "char": "" for the zero byte, else the byte itself; also PostgreSQL 15's "\ooo" for bytes with
// the high bit set, as charin reads it.
void pg_char(const Json& v, std::string& out) {
  constexpr std::string_view kExpected = "a string of at most one byte or a \\ooo escape";
  const std::string_view s = string_of(v, "\"char\"", kExpected);
  if (s.size() <= 1) {
    out.push_back(s.empty() ? '\0' : s[0]);
  } else if (s.size() == 4 && s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && is_octal(s[2]) && is_octal(s[3])) {
    out.push_back(static_cast<char>((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0')));
  } else {
    malformed("\"char\"", kExpected, v);
  }
}

void bytea(const Json& v, std::string& out) {
  const auto bytes = base64_decode(string_of(v, "bytea", "base64 text"));
  if (!bytes) malformed("bytea", "base64 text", v);
  out += *bytes;
}

void uuid(const Json& v, std::string& out) {
  constexpr std::string_view kExpected = "a uuid like \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"";
  const std::string_view s = string_of(v, "uuid", kExpected);
  if (s.size() != 36) malformed("uuid", kExpected, v);
  std::string bytes;
  for (std::size_t i = 0; i < s.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i++] != '-') malformed("uuid", kExpected, v);
      continue;
    }
    const int b = hex_byte(s, i);
    if (b < 0) malformed("uuid", kExpected, v);
    bytes.push_back(static_cast<char>(b));
    i += 2;
  }
  out += bytes;
}

// ---- dates and times ----------------------------------------------------------------------------

void date(const Json& v, std::string& out) {
  constexpr auto kMin = std::numeric_limits<std::int32_t>::min(), kMax = std::numeric_limits<std::int32_t>::max();
  const std::int64_t days = integer(v, "date", "days since 1970-01-01 as an integer", kMin, kMax);
  if (days == kMin || days == kMax) return put(out, static_cast<std::int32_t>(days));  // ±infinity
  const std::int64_t pg = days - kPgEpochDays;
  if (pg < kMinDate || pg >= kEndDate) out_of_range("date", "outside PostgreSQL's dates");
  put(out, static_cast<std::int32_t>(pg));
}

void time_of_day(const Json& v, std::string& out) {
  // 24:00:00 is a valid time.
  put(out, integer(v, "time", "microseconds since midnight as an integer", 0, kMicrosPerDay));
}

bool is_infinite(std::int64_t pg) {
  return pg == std::numeric_limits<std::int64_t>::max() || pg == std::numeric_limits<std::int64_t>::min();
}

// Micros since 1970 → since 2000, checked against PostgreSQL's timestamp range.
std::int64_t pg_timestamp(std::int64_t unix_micros, std::string_view type) {
  std::int64_t pg;
  if (__builtin_sub_overflow(unix_micros, kPgEpochMicros, &pg) || pg < kMinTimestamp || pg >= kEndTimestamp)
    out_of_range(type, "outside PostgreSQL's timestamps");
  return pg;
}

// adaptive_time_microseconds: timestamp(0..3) in ms, other timestamps in µs; ±infinity are the
// int64 extremes in either unit.
void timestamp(const Json& v, std::int32_t typmod, std::string& out) {
  const bool millis = typmod >= 0 && typmod <= 3;
  const char* expected =
      millis ? "milliseconds since 1970-01-01 as an integer" : "microseconds since 1970-01-01 as an integer";
  const std::int64_t n = integer(v, "timestamp", expected, std::numeric_limits<std::int64_t>::min(),
                                 std::numeric_limits<std::int64_t>::max());
  if (is_infinite(n)) return put(out, n);
  std::int64_t micros = n;
  if (millis && __builtin_mul_overflow(n, std::int64_t{1000}, &micros))
    out_of_range("timestamp", "outside PostgreSQL's timestamps");
  put(out, pg_timestamp(micros, "timestamp"));
}

void timestamptz(const Json& v, std::string& out) {
  constexpr std::string_view kExpected = "an ISO 8601 instant like \"2024-05-01T10:00:00.5Z\"";
  const std::string_view s = string_of(v, "timestamptz", kExpected);
  if (s == "infinity") return put(out, std::numeric_limits<std::int64_t>::max());
  if (s == "-infinity") return put(out, std::numeric_limits<std::int64_t>::min());
  const auto micros = parse_iso_instant(s);
  if (!micros) malformed("timestamptz", kExpected, v);
  put(out, pg_timestamp(*micros, "timestamptz"));
}

// ---- interval -----------------------------------------------------------------------------------

struct Interval {
  std::int64_t micros = 0;
  std::int64_t days = 0;
  std::int64_t months = 0;
};

// One "<signed number><unit>" of a duration; only seconds may carry a fraction (1..6 digits).
struct DurationPart {
  std::int64_t value = 0;   // signed whole units
  std::int64_t micros = 0;  // signed fraction of a second
  bool has_fraction = false;
  char unit = 0;
};

std::optional<DurationPart> duration_part(std::string_view s, std::size_t& pos) {
  DurationPart p;
  const bool negative = pos < s.size() && s[pos] == '-';
  if (negative) ++pos;
  const std::size_t n = digit_run(s, pos);
  if (n == 0 || n > 18) return std::nullopt;  // 18 digits cannot overflow int64
  std::from_chars(s.data() + pos, s.data() + pos + n, p.value);
  pos += n;
  if (pos < s.size() && s[pos] == '.') {
    const std::size_t f = digit_run(s, ++pos);
    if (f == 0 || f > 6) return std::nullopt;
    std::from_chars(s.data() + pos, s.data() + pos + f, p.micros);
    for (std::size_t i = f; i < 6; ++i) p.micros *= 10;
    p.has_fraction = true;
    pos += f;
  }
  if (pos == s.size()) return std::nullopt;
  p.unit = s[pos++];
  if (negative) {
    p.value = -p.value;
    p.micros = -p.micros;
  }
  return p;
}

bool add_scaled(std::int64_t& acc, std::int64_t value, std::int64_t factor) {
  std::int64_t scaled;
  return !__builtin_mul_overflow(value, factor, &scaled) && !__builtin_add_overflow(acc, scaled, &acc);
}

bool add_part(Interval& iv, const DurationPart& p, bool time_part) {
  if (!time_part) {
    switch (p.unit) {
      case 'Y': return add_scaled(iv.months, p.value, 12);
      case 'M': return add_scaled(iv.months, p.value, 1);
      default: return add_scaled(iv.days, p.value, 1);
    }
  }
  switch (p.unit) {
    case 'H': return add_scaled(iv.micros, p.value, 3600 * kMicrosPerSecond);
    case 'M': return add_scaled(iv.micros, p.value, 60 * kMicrosPerSecond);
    default: return add_scaled(iv.micros, p.value, kMicrosPerSecond) && add_scaled(iv.micros, p.micros, 1);
  }
}

// PostgreSQL's intervalstyle iso_8601 output: "P" [nY][nM][nD] ["T" [nH][nM][n[.f]S]], every
// part with its own sign, at least one part ("PT0S" for zero).
std::optional<Interval> parse_iso_duration(std::string_view s) {
  if (s.size() < 3 || s[0] != 'P') return std::nullopt;
  Interval iv;
  std::string_view units = "YMD";
  std::size_t next_unit = 0;  // units must come in order, each at most once
  bool time_part = false, any_part = false;
  for (std::size_t pos = 1; pos < s.size();) {
    if (s[pos] == 'T') {
      if (time_part || ++pos == s.size()) return std::nullopt;
      time_part = true;
      units = "HMS";
      next_unit = 0;
      continue;
    }
    const auto part = duration_part(s, pos);
    if (!part) return std::nullopt;
    const std::size_t at = units.find(part->unit, next_unit);
    if (at == std::string_view::npos || (part->has_fraction && part->unit != 'S') || !add_part(iv, *part, time_part))
      return std::nullopt;
    next_unit = at + 1;
    any_part = true;
  }
  constexpr auto kMin = std::numeric_limits<std::int32_t>::min(), kMax = std::numeric_limits<std::int32_t>::max();
  if (!any_part || iv.days < kMin || iv.days > kMax || iv.months < kMin || iv.months > kMax) return std::nullopt;
  return iv;
}

void interval(const Json& v, std::string& out) {
  constexpr std::string_view kExpected = "an ISO 8601 duration like \"P1Y2M3DT4H5M6.789S\"";
  const std::string_view s = string_of(v, "interval", kExpected);
  Interval iv;
  if (s == "infinity" || s == "-infinity") {  // PostgreSQL 17: every field at its extreme
    const bool neg = s[0] == '-';
    iv.micros = neg ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
    iv.days = iv.months = neg ? std::numeric_limits<std::int32_t>::min() : std::numeric_limits<std::int32_t>::max();
  } else if (const auto parsed = parse_iso_duration(s)) {
    iv = *parsed;
  } else {
    malformed("interval", kExpected, v);
  }
  put(out, iv.micros);
  put(out, static_cast<std::int32_t>(iv.days));
  put(out, static_cast<std::int32_t>(iv.months));
}

// ---- network types ------------------------------------------------------------------------------

constexpr std::uint8_t kPgAfInet = 2, kPgAfInet6 = 3;  // utils/inet.h, not the platform's AF_*

bool host_bits_zero(const unsigned char* addr, unsigned nbytes, unsigned bits) {
  for (unsigned i = bits; i < 8 * nbytes; ++i)
    if (addr[i / 8] & (0x80u >> (i % 8))) return false;
  return true;
}

// PostgreSQL's text (address, "/bits" optional for inet, always there for cidr) → inet_send.
void inet(const Json& v, bool is_cidr, std::string& out) {
  const char* type = is_cidr ? "cidr" : "inet";
  const char* expected = is_cidr ? "a network like \"10.0.0.0/8\"" : "an address like \"192.168.1.5\" or \"::1/64\"";
  const std::string_view s = string_of(v, type, expected);
  const std::size_t slash = s.find('/');
  const std::string address(s.substr(0, slash));
  const bool v6 = address.find(':') != std::string::npos;
  unsigned char addr[16];
  // A NUL would end the text inet_pton sees early and let a prefix of the value through.
  if (address.find('\0') != std::string::npos || inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), addr) != 1)
    malformed(type, expected, v);
  const unsigned nbytes = v6 ? 16 : 4;
  unsigned bits = 8 * nbytes;
  if (slash != std::string_view::npos) {
    const std::string_view prefix = s.substr(slash + 1);
    const auto r = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
    if (prefix.empty() || prefix.size() > 3 || r.ptr != prefix.data() + prefix.size() || bits > 8 * nbytes)
      malformed(type, expected, v);
  } else if (is_cidr) {
    malformed(type, expected, v);
  }
  if (is_cidr && !host_bits_zero(addr, nbytes, bits)) malformed(type, "a network without bits right of its prefix", v);
  put<std::uint8_t>(out, v6 ? kPgAfInet6 : kPgAfInet);
  put(out, static_cast<std::uint8_t>(bits));
  put<std::uint8_t>(out, is_cidr ? 1 : 0);
  put(out, static_cast<std::uint8_t>(nbytes));
  out.append(reinterpret_cast<const char*>(addr), nbytes);
}

// "08:00:2b:01:02:03" (macaddr) or eight groups (macaddr8) → the bytes.
void macaddr(const Json& v, std::size_t nbytes, std::string& out) {
  const char* type = nbytes == 6 ? "macaddr" : "macaddr8";
  const char* expected =
      nbytes == 6 ? "a MAC address like \"08:00:2b:01:02:03\"" : "an EUI-64 like \"08:00:2b:01:02:03:04:05\"";
  const std::string_view s = string_of(v, type, expected);
  if (s.size() != 3 * nbytes - 1) malformed(type, expected, v);
  std::string bytes;
  for (std::size_t i = 0; i < nbytes; ++i) {
    const int b = hex_byte(s, 3 * i);
    if (b < 0 || (i + 1 < nbytes && s[3 * i + 2] != ':')) malformed(type, expected, v);
    bytes.push_back(static_cast<char>(b));
  }
  out += bytes;
}

// ---- dispatch and arrays ------------------------------------------------------------------------

void read_scalar(std::uint32_t type_oid, char typtype, std::int32_t typmod, const Json& v, std::string& out) {
  if (typtype == 'e') return text(v, "enum", out);  // enum_send: the label
  switch (type_oid) {
    case oid::kBool: return boolean(v, out);
    case oid::kInt2: return put(out, static_cast<std::int16_t>(integer(v, "int2", "an integer", INT16_MIN, INT16_MAX)));
    case oid::kInt4: return put(out, static_cast<std::int32_t>(integer(v, "int4", "an integer", INT32_MIN, INT32_MAX)));
    case oid::kInt8: return put(out, integer(v, "int8", "an integer", INT64_MIN, INT64_MAX));
    case oid::kOid: return put(out, static_cast<std::uint32_t>(integer(v, "oid", "an integer", 0, UINT32_MAX)));
    case oid::kFloat4: return float4(v, out);
    case oid::kFloat8: return float8(v, out);
    case oid::kNumeric: return numeric(v, out);
    case oid::kMoney: return money(v, out);
    case oid::kText: return text(v, "text", out);
    case oid::kVarchar: return text(v, "varchar", out);
    case oid::kBpchar: return text(v, "bpchar", out);
    case oid::kName: return text(v, "name", out, kMaxNameBytes);
    case oid::kJson: return text(v, "json", out);
    case oid::kXml: return text(v, "xml", out);
    case oid::kJsonb: return jsonb(v, out);
    case oid::kChar: return pg_char(v, out);
    case oid::kBytea: return bytea(v, out);
    case oid::kUuid: return uuid(v, out);
    case oid::kDate: return date(v, out);
    case oid::kTime: return time_of_day(v, out);
    case oid::kTimestamp: return timestamp(v, typmod, out);
    case oid::kTimestampTz: return timestamptz(v, out);
    case oid::kInterval: return interval(v, out);
    case oid::kInet: return inet(v, false, out);
    case oid::kCidr: return inet(v, true, out);
    case oid::kMacaddr: return macaddr(v, 6, out);
    case oid::kMacaddr8: return macaddr(v, 8, out);
    default:
      throw Error(ErrorKind::Schema, fmt::format("type oid {} has no JSON decoding for Kafka", type_oid),
                  "exclude the column in the table's config");
  }
}

[[noreturn]] void ragged(std::string_view why) {
  throw ProtocolError(fmt::format("expected a rectangular JSON array for an array column: {}", why));
}

// The dimensions, read down the first elements; the walk in ArrayWriter checks the rest agree.
std::vector<std::int32_t> array_dims(const Json& json) {
  std::vector<std::int32_t> dims;
  for (const Json* v = &json; v->IsArray(); v = &(*v)[0]) {
    if (dims.size() == kMaxArrayDims) ragged("more than 6 dimensions");
    dims.push_back(static_cast<std::int32_t>(v->Size()));
    if (v->Empty()) break;
  }
  // PostgreSQL has no arrays with a zero-length dimension: an empty array has no dimensions.
  if (dims.size() > 1 && dims.back() == 0) ragged("an empty inner array");
  return dims;
}

class ArrayWriter {
 public:
  ArrayWriter(const types::PgTypeDesc& type, std::vector<std::int32_t> dims, std::string& out)
      : type_(type), dims_(std::move(dims)), out_(out) {}

  void write(const Json& json) {
    put(out_, static_cast<std::int32_t>(dims_.size()));
    const std::size_t has_null_at = out_.size();
    put<std::int32_t>(out_, 0);  // patched once the elements are known
    put(out_, type_.element_oid);
    for (const std::int32_t d : dims_) {
      put(out_, d);
      put<std::int32_t>(out_, 1);  // lower bound
    }
    level(json, 0);
    if (has_null_) out_[has_null_at + 3] = 1;
  }

 private:
  void level(const Json& v, std::size_t depth) {
    if (!v.IsArray() || v.Size() != static_cast<rapidjson::SizeType>(dims_[depth]))
      ragged(fmt::format("dimension {} should have {} elements, got {}", depth + 1, dims_[depth], describe(v)));
    for (const Json& e : v.GetArray()) {
      if (depth + 1 < dims_.size()) {
        level(e, depth + 1);
      } else if (e.IsNull()) {
        put<std::int32_t>(out_, -1);
        has_null_ = true;
      } else if (e.IsArray()) {
        ragged(fmt::format("an element of dimension {} is an array", depth + 1));
      } else {
        element(e);
      }
    }
  }

  void element(const Json& e) {
    const std::size_t length_at = out_.size();
    put<std::int32_t>(out_, 0);
    read_scalar(type_.element_oid, type_.element_typtype, -1, e, out_);  // elements carry no typmod
    const std::size_t length = out_.size() - length_at - 4;
    if (length > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
      out_of_range("array", "an element longer than 2 GiB");
    std::string length_bytes;
    put(length_bytes, static_cast<std::int32_t>(length));
    out_.replace(length_at, 4, length_bytes);
  }

  const types::PgTypeDesc& type_;
  std::vector<std::int32_t> dims_;
  std::string& out_;
  bool has_null_ = false;
};

void read_array(const types::PgTypeDesc& type, const Json& json, std::string& out) {
  if (!json.IsArray()) mismatch(type.name, "a JSON array", json);
  std::vector<std::int32_t> dims = array_dims(json);
  if (dims.size() == 1 && dims[0] == 0) {  // '{}': ndim 0, no nulls, the element type
    put<std::int32_t>(out, 0);
    put<std::int32_t>(out, 0);
    put(out, type.element_oid);
    return;
  }
  ArrayWriter(type, std::move(dims), out).write(json);
}

}  // namespace

void read_json_value(const types::PgTypeDesc& type, const rapidjson::Value& json, std::string& out) {
  const std::size_t start = out.size();
  try {
    if (type.is_array()) {
      read_array(type, json, out);
    } else {
      read_scalar(type.oid, type.typtype, type.typmod, json, out);
    }
  } catch (...) {
    out.resize(start);  // no half-written value for the caller to trip over
    throw;
  }
}

}  // namespace pg2ch::kafka
