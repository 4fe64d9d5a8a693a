#include "clickhouse/column_conversion.h"

#include <charconv>
#include <optional>
#include <string>
#include <utility>

namespace pg2ch::clickhouse {

namespace {

// Types are compared without spaces: "Decimal(10, 2)" and "Decimal(10,2)" are one type.
std::string compact(std::string_view type) {
  std::string out;
  for (char c : type) {
    if (c != ' ') out += c;
  }
  return out;
}

// The inner type of Nullable(...), or nullopt.
std::optional<std::string_view> nullable_inner(std::string_view t) {
  constexpr std::string_view kPrefix = "Nullable(";
  if (t.starts_with(kPrefix) && t.ends_with(')')) return t.substr(kPrefix.size(), t.size() - kPrefix.size() - 1);
  return std::nullopt;
}

int int_width(std::string_view t) {
  if (t == "Int8") return 8;
  if (t == "Int16") return 16;
  if (t == "Int32") return 32;
  if (t == "Int64") return 64;
  if (t == "Int128") return 128;
  if (t == "Int256") return 256;
  return 0;
}

std::optional<std::pair<int, int>> decimal(std::string_view t) {
  constexpr std::string_view kPrefix = "Decimal(";
  if (!t.starts_with(kPrefix) || !t.ends_with(')')) return std::nullopt;
  const std::string_view args = t.substr(kPrefix.size(), t.size() - kPrefix.size() - 1);
  const auto comma = args.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  int p = 0, s = 0;
  const auto [pe, pec] = std::from_chars(args.data(), args.data() + comma, p);
  const auto [se, sec] = std::from_chars(args.data() + comma + 1, args.data() + args.size(), s);
  if (pec != std::errc() || sec != std::errc() || pe != args.data() + comma || se != args.data() + args.size()) {
    return std::nullopt;
  }
  return std::pair{p, s};
}

bool inner_converts_exactly(std::string_view from, std::string_view to) {
  if (from == to) return true;
  if (int_width(from) && int_width(to)) return int_width(to) > int_width(from);
  if (from == "Float32" && to == "Float64") return true;
  const auto df = decimal(from), dt = decimal(to);
  return df && dt && dt->second == df->second && dt->first >= df->first;
}

}  // namespace

bool converts_exactly(std::string_view from_type, std::string_view to_type) {
  const std::string from = compact(from_type), to = compact(to_type);
  const auto from_inner = nullable_inner(from), to_inner = nullable_inner(to);
  if (from_inner && !to_inner) return false;  // a NULL has nowhere to go
  return inner_converts_exactly(from_inner.value_or(from), to_inner.value_or(to));
}

}  // namespace pg2ch::clickhouse
