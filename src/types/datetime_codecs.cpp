#include "types/datetime_codecs.h"

#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "common/civil_time.h"
#include "common/error.h"
#include "types/pg_binary.h"

namespace pg2ch::types {
namespace {

constexpr std::int32_t kPgEpochDays = 10957;                    // 2000-01-01 - 1970-01-01
constexpr std::int64_t kPgEpochMicros = 946684800LL * 1000000;  // same, in microseconds

// Codecs do not know their column; the caller's context names it in the message.
constexpr char kInfinityHint[] =
    "ClickHouse has no infinite dates: replace 'infinity' in PostgreSQL, or exclude the column with "
    "`exclude = [\"<column>\"]` in the table's config";

// "'infinity'" or "'-infinity'": PostgreSQL's two infinite values are the type's extremes.
template <typename T>
std::string infinity_text(T value) {
  return value == std::numeric_limits<T>::min() ? "'-infinity'" : "'infinity'";
}

// The value as PostgreSQL would print it (UTC), so the operator can find the row.
std::string date_text(std::int64_t days_since_1970) {
  const CivilDate d = civil_from_days(days_since_1970);
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

[[noreturn]] void throw_out_of_range(const std::string& what, const std::string& target, const std::string& range) {
  throw Error(ErrorKind::Data, what + " is outside the range of ClickHouse " + target + " (" + range + ")",
              "ClickHouse cannot show this value correctly: change it in PostgreSQL, or exclude the column with "
              "`exclude = [\"<column>\"]` in the table's config");
}

class DateCodec final : public ValueCodec {
 public:
  DateCodec(DayWidth width, DayRange range, std::string target)
      : width_(width), range_(std::move(range)), target_(std::move(target)) {}

  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    pgbin::expect_length(v, 4, "date");
    const std::int32_t pg_days = pgbin::load_be<std::int32_t>(v.data());
    if (pg_days == std::numeric_limits<std::int32_t>::max() || pg_days == std::numeric_limits<std::int32_t>::min())
      [[unlikely]]
      throw Error(ErrorKind::Data, "date " + infinity_text(pg_days) + " cannot be stored in ClickHouse " + target_,
                  kInfinityHint);
    // int64: PostgreSQL's date range reaches 5874897 AD, near INT32_MAX.
    const std::int64_t days = std::int64_t{pg_days} + kPgEpochDays;
    if (days < range_.min || days > range_.max) [[unlikely]]
      throw_out_of_range("date " + date_text(days), target_, range_.text);
    if (width_ == DayWidth::UInt16)
      out.fixed(static_cast<std::uint16_t>(days));
    else
      out.fixed(static_cast<std::int32_t>(days));
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override {
    if (width_ == DayWidth::UInt16)
      out.fixed(std::uint16_t{0});
    else
      out.fixed(std::int32_t{0});
  }

 private:
  DayWidth width_;
  DayRange range_;
  std::string target_;
};

class TimestampCodec final : public ValueCodec {
 public:
  TimestampCodec(MicrosRange range, std::string target) : range_(std::move(range)), target_(std::move(target)) {}

  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    pgbin::expect_length(v, 8, "timestamp");
    const std::int64_t pg_micros = pgbin::load_be<std::int64_t>(v.data());
    if (pg_micros == std::numeric_limits<std::int64_t>::max() || pg_micros == std::numeric_limits<std::int64_t>::min())
      [[unlikely]]
      throw Error(ErrorKind::Data,
                  "timestamp " + infinity_text(pg_micros) + " cannot be stored in ClickHouse " + target_,
                  kInfinityHint);
    std::int64_t micros;
    // PostgreSQL's last representable timestamp (294276 AD) overflows Int64 once shifted to 1970.
    if (__builtin_add_overflow(pg_micros, kPgEpochMicros, &micros)) [[unlikely]]
      throw_out_of_range("a timestamp after the year 294000", target_, range_.text);
    if (micros < range_.min || micros > range_.max) [[unlikely]]
      throw_out_of_range("timestamp " + iso_instant(micros), target_, range_.text);
    out.fixed(micros);
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.fixed(std::int64_t{0}); }

 private:
  MicrosRange range_;
  std::string target_;
};

}  // namespace

std::unique_ptr<ValueCodec> make_date_codec(DayWidth width, DayRange range, std::string target) {
  return std::make_unique<DateCodec>(width, std::move(range), std::move(target));
}

std::unique_ptr<ValueCodec> make_timestamp_codec(MicrosRange range, std::string target) {
  return std::make_unique<TimestampCodec>(std::move(range), std::move(target));
}

}  // namespace pg2ch::types
