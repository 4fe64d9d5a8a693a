#include "types/interval_codec.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include "types/pg_binary.h"

namespace pg2ch::types {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1000000;
constexpr std::int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr std::int64_t kMicrosPerHour = 60 * kMicrosPerMinute;

// "<value><unit>", skipped when zero (PostgreSQL's AddISO8601IntPart does the same).
char* put_part(char* p, char* end, std::int64_t value, char unit) {
  if (value == 0) return p;
  // Leave room for the unit: to_chars then never returns `end`, so the unit write stays in bounds.
  p = std::to_chars(p, end - 1, value).ptr;
  *p++ = unit;
  return p;
}

class IntervalCodec final : public ValueCodec {
 public:
  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    // interval_send: int64 microseconds, int32 days, int32 months.
    pgbin::expect_length(v, 16, "interval");
    const std::int64_t time = pgbin::load_be<std::int64_t>(v.data());
    const std::int32_t days = pgbin::load_be<std::int32_t>(v.data() + 8);
    const std::int32_t months = pgbin::load_be<std::int32_t>(v.data() + 12);

    // PostgreSQL 17 infinite intervals: every field at its extreme.
    if (time == std::numeric_limits<std::int64_t>::max() && days == std::numeric_limits<std::int32_t>::max() &&
        months == std::numeric_limits<std::int32_t>::max())
      return out.string("infinity");
    if (time == std::numeric_limits<std::int64_t>::min() && days == std::numeric_limits<std::int32_t>::min() &&
        months == std::numeric_limits<std::int32_t>::min())
      return out.string("-infinity");
    if (time == 0 && days == 0 && months == 0) return out.string("PT0S");

    // Every field is split with truncating division, so each part carries its own sign, as in
    // PostgreSQL's interval2itm + EncodeInterval.
    const std::int64_t hours = time / kMicrosPerHour;
    const std::int64_t minutes = time % kMicrosPerHour / kMicrosPerMinute;
    const std::int64_t micros = time % kMicrosPerMinute;  // seconds and fraction, signed

    char buf[96];  // "P-178956970Y-8M-2147483648DT-2562047788H-59M-59.999999S" is 56 chars
    char* const end = buf + sizeof(buf);
    char* p = buf;
    *p++ = 'P';
    p = put_part(p, end, months / 12, 'Y');
    p = put_part(p, end, months % 12, 'M');
    p = put_part(p, end, days, 'D');
    if (time != 0) *p++ = 'T';
    p = put_part(p, end, hours, 'H');
    p = put_part(p, end, minutes, 'M');
    if (micros != 0) {
      if (micros < 0) *p++ = '-';
      const std::uint64_t abs_micros = micros < 0 ? 0 - static_cast<std::uint64_t>(micros) : micros;
      p = std::to_chars(p, end, abs_micros / kMicrosPerSecond).ptr;
      if (std::uint64_t frac = abs_micros % kMicrosPerSecond; frac != 0) {
        // Six digits with the trailing zeros dropped, as AppendSeconds prints them.
        int digits = 6;
        while (frac % 10 == 0) {
          frac /= 10;
          --digits;
        }
        *p++ = '.';
        for (int i = digits - 1; i >= 0; --i, frac /= 10) p[i] = static_cast<char>('0' + frac % 10);
        p += digits;
      }
      *p++ = 'S';
    }
    out.string(std::string_view(buf, static_cast<std::size_t>(p - buf)));
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.varint(0); }
};

}  // namespace

std::unique_ptr<ValueCodec> make_interval_codec() { return std::make_unique<IntervalCodec>(); }

}  // namespace pg2ch::types
