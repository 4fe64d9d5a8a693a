#include "capture/table_sync/source_columns.h"

#include <fmt/format.h>

#include <charconv>

namespace pg2ch::capture::table_sync {

std::string encode_source_columns(const pipeline::TableSchema& table) {
  std::string out = std::to_string(table.relfilenode);
  for (const auto& c : table.source_columns) {
    out += fmt::format(";{},{},{},{},{},{}:{}", c.attnum, c.declared_type_oid, c.declared_typmod, c.not_null ? 1 : 0,
                       c.is_key ? 1 : 0, c.name.size(), c.name);
  }
  return out;
}

namespace {

// Reads a number up to `end` (',' ':' or ';'), then skips that character.
template <typename T>
bool number(std::string_view& text, T& out, char end) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  if (r.ec != std::errc() || r.ptr == text.data() + text.size() || *r.ptr != end) return false;
  text.remove_prefix(static_cast<std::size_t>(r.ptr - text.data()) + 1);
  return true;
}

}  // namespace

std::optional<RecordedColumns> decode_source_columns(std::string_view text) {
  if (text.empty()) return std::nullopt;
  RecordedColumns out;
  const auto semi = text.find(';');
  const std::string_view head = text.substr(0, semi);
  if (std::from_chars(head.data(), head.data() + head.size(), out.relfilenode).ptr != head.data() + head.size()) {
    return std::nullopt;
  }
  text.remove_prefix(semi == std::string_view::npos ? text.size() : semi + 1);
  while (!text.empty()) {
    RecordedColumn c;
    int not_null = 0, key = 0;
    std::size_t length = 0;
    if (!number(text, c.attnum, ',') || !number(text, c.type_oid, ',') || !number(text, c.typmod, ',') ||
        !number(text, not_null, ',') || !number(text, key, ',') || !number(text, length, ':') || length > text.size()) {
      return std::nullopt;
    }
    c.name = std::string(text.substr(0, length));
    c.not_null = not_null != 0;
    c.is_key = key != 0;
    text.remove_prefix(length);
    out.columns.push_back(std::move(c));
    if (text.empty()) break;
    if (text.front() != ';') return std::nullopt;
    text.remove_prefix(1);
  }
  return out;
}

}  // namespace pg2ch::capture::table_sync
