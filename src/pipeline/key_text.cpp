#include "pipeline/key_text.h"

#include <fmt/format.h>

#include <cstdint>

namespace pg2ch::pipeline {

namespace {

constexpr std::size_t kMaxText = 64;

std::int64_t big_endian(std::string_view d) {
  std::uint64_t v = 0;
  for (unsigned char c : d) v = (v << 8) | c;
  const unsigned bits = static_cast<unsigned>(d.size() * 8);
  if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~std::uint64_t{0} << bits;  // sign-extend
  return static_cast<std::int64_t>(v);
}

std::string value_text(const types::PgTypeDesc& type, const ValueRef& v) {
  if (v.kind == ValueRef::Kind::Null) return "NULL";
  if (v.kind == ValueRef::Kind::UnchangedToast) return "(unchanged)";
  const std::string_view d = v.data;
  namespace oid = types::oid;
  switch (type.oid) {
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
      if (d.size() == 2 || d.size() == 4 || d.size() == 8) return std::to_string(big_endian(d));
      break;
    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case oid::kName:
      return d.size() <= kMaxText ? fmt::format("'{}'", d) : fmt::format("'{}...'", d.substr(0, kMaxText));
    case oid::kUuid:
      if (d.size() == 16) {
        std::string hex;
        for (std::size_t i = 0; i < 16; ++i) {
          if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
          hex += fmt::format("{:02x}", static_cast<unsigned char>(d[i]));
        }
        return hex;
      }
      break;
    default: break;
  }
  return fmt::format("({} bytes of {})", d.size(), type.name);
}

}  // namespace

std::string key_text(const TableSchema& table, std::span<const ValueRef> row) {
  std::string out;
  for (int ti : table.key_target_indexes) {
    const auto& col = table.target_columns[static_cast<std::size_t>(ti)];
    const auto si = static_cast<std::size_t>(col.source_index);
    if (si >= row.size()) continue;
    if (!out.empty()) out += ", ";
    out += col.name + "=" + value_text(table.source_columns[si].type, row[si]);
  }
  return out;
}

}  // namespace pg2ch::pipeline
