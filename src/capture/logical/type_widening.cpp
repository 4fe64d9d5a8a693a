#include "capture/logical/type_widening.h"

#include <fmt/format.h>

#include <bit>

#include "types/numeric_binary.h"
#include "types/pg_binary.h"
#include "types/pg_type.h"

namespace pg2ch::capture::logical {

namespace ids = types::oid;

namespace {

int integer_width(std::uint32_t oid) {
  switch (oid) {
    case ids::kInt2: return 2;
    case ids::kInt4: return 4;
    case ids::kInt8: return 8;
  }
  return 0;
}

bool is_string(std::uint32_t oid) { return oid == ids::kVarchar || oid == ids::kText; }

// varchar's typmod is its length + 4; -1 (and text) is unlimited.
std::int32_t string_limit(DeclaredType t) { return t.oid == ids::kVarchar && t.typmod >= 4 ? t.typmod - 4 : -1; }

std::string text_of(DeclaredType t) {
  switch (t.oid) {
    case ids::kInt2: return "smallint";
    case ids::kInt4: return "integer";
    case ids::kInt8: return "bigint";
    case ids::kFloat4: return "real";
    case ids::kFloat8: return "double precision";
    case ids::kText: return "text";
    case ids::kVarchar:
      return string_limit(t) < 0 ? "character varying" : fmt::format("character varying({})", string_limit(t));
    case ids::kNumeric: {
      const auto tm = types::decode_numeric_typmod(t.typmod);
      return tm ? fmt::format("numeric({},{})", tm->precision, tm->scale) : "numeric";
    }
    case ids::kTimestamp: return "timestamp";
    case ids::kTimestampTz: return "timestamp with time zone";
  }
  return fmt::format("type oid {}{}", t.oid, t.typmod < 0 ? "" : fmt::format(" (typmod {})", t.typmod));
}

// `v` as `width` big-endian bytes.
void store_be(std::uint64_t v, int width, std::string& out) {
  out.resize(width);
  for (int i = 0; i < width; ++i) out[i] = static_cast<char>(v >> (8 * (width - 1 - i)));
}

}  // namespace

std::optional<std::string> widening_refusal(DeclaredType from, DeclaredType to) {
  if (from == to) return std::nullopt;
  const std::string change = fmt::format("{} to {}", text_of(from), text_of(to));
  if (integer_width(from.oid) && integer_width(to.oid)) {
    if (integer_width(to.oid) > integer_width(from.oid)) return std::nullopt;
    return change + " narrows the integers";
  }
  if (from.oid == ids::kFloat4 && to.oid == ids::kFloat8) return std::nullopt;
  if (is_string(from.oid) && is_string(to.oid)) {
    const auto old_limit = string_limit(from), new_limit = string_limit(to);
    if (new_limit < 0 || (old_limit >= 0 && new_limit >= old_limit)) return std::nullopt;
    return change + " shortens the strings";
  }
  if (from.oid == ids::kNumeric && to.oid == ids::kNumeric) {
    const auto old_tm = types::decode_numeric_typmod(from.typmod), new_tm = types::decode_numeric_typmod(to.typmod);
    if (!new_tm) return std::nullopt;
    if (!old_tm) return change + " rounds the numbers";
    if (new_tm->scale != old_tm->scale) return change + " changes the scale, which rounds or rescales the numbers";
    if (new_tm->precision >= old_tm->precision) return std::nullopt;
    return change + " lowers the precision";
  }
  if (timestamp_changes_zone(from, to)) {
    // typmod: fractional digits kept (-1: all six).
    if (to.typmod < 0 || (from.typmod >= 0 && to.typmod >= from.typmod)) return std::nullopt;
    return change + " rounds the fractions of a second";
  }
  return change + " is not a widening pg2ch can follow exactly";
}

bool widening_rewrites(DeclaredType from, DeclaredType to) {
  return from.oid != to.oid && (integer_width(from.oid) || from.oid == ids::kFloat4);
}

bool timestamp_changes_zone(DeclaredType from, DeclaredType to) {
  return from.oid == ids::kTimestamp && to.oid == ids::kTimestampTz;
}

std::string_view widen_value(DeclaredType from, DeclaredType to, std::string_view value, std::string& out) {
  if (integer_width(from.oid) && integer_width(to.oid) && from.oid != to.oid) {
    types::pgbin::expect_length(value, integer_width(from.oid), text_of(from));
    const std::int64_t v = from.oid == ids::kInt2 ? types::pgbin::load_be<std::int16_t>(value.data())
                                                  : types::pgbin::load_be<std::int32_t>(value.data());
    store_be(static_cast<std::uint64_t>(v), integer_width(to.oid), out);  // sign-extended
    return out;
  }
  if (from.oid == ids::kFloat4 && to.oid == ids::kFloat8) {
    types::pgbin::expect_length(value, 4, "real");
    const double d = std::bit_cast<float>(types::pgbin::load_be<std::uint32_t>(value.data()));
    store_be(std::bit_cast<std::uint64_t>(d), 8, out);
    return out;
  }
  // Strings and numerics: the binary form does not depend on the typmod. timestamp → timestamptz
  // (followed only where the table was not rewritten, so the stored microseconds were kept as UTC):
  // the same int64.
  return value;
}

}  // namespace pg2ch::capture::logical
