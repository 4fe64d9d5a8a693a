#include "config/table_name.h"

namespace pg2ch::config {
namespace {

// One part from the front of `text`: quoted ("" is a quote) or up to the next dot.
std::optional<std::string> take_part(std::string_view& text) {
  std::string part;
  if (!text.empty() && text.front() == '"') {
    std::size_t i = 1;
    for (;; ++i) {
      if (i >= text.size()) return std::nullopt;  // unterminated
      if (text[i] != '"') {
        part += text[i];
        continue;
      }
      if (i + 1 < text.size() && text[i + 1] == '"') {
        part += '"';
        ++i;
        continue;
      }
      break;
    }
    text.remove_prefix(i + 1);
    if (part.empty()) return std::nullopt;
    return part;
  }
  const auto dot = text.find('.');
  part = std::string(text.substr(0, dot));
  text.remove_prefix(dot == std::string_view::npos ? text.size() : dot);
  // A quote belongs at the start of a part; an unquoted '*' is not a glob pg2ch knows.
  if (part.empty() || part.find_first_of("\"*") != std::string::npos) return std::nullopt;
  return part;
}

}  // namespace

std::optional<TableName> parse_table_name(std::string_view text) {
  TableName out;
  auto schema = take_part(text);
  if (!schema || text.empty() || text.front() != '.') return std::nullopt;
  text.remove_prefix(1);
  out.schema = std::move(*schema);
  if (text == "*") {
    out.wildcard = true;
    return out;
  }
  auto table = take_part(text);
  if (!table || !text.empty()) return std::nullopt;
  out.table = std::move(*table);
  return out;
}

bool names_table(std::string_view arg, const std::string& schema, const std::string& table) {
  if (auto name = parse_table_name(arg); name && !name->wildcard && name->schema == schema && name->table == table) {
    return true;
  }
  return arg == schema + "." + table;
}

}  // namespace pg2ch::config
