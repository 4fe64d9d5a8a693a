// Backslash escaping, not doubling: it is the one form every ClickHouse version parses in both
// identifiers and string literals (checked on 18.16).
#include <string>
#include <string_view>

#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {
namespace {

std::string quote(std::string_view text, char quote_char) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back(quote_char);
  for (char c : text) {
    if (c == quote_char || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back(quote_char);
  return out;
}

}  // namespace

std::string quote_identifier(std::string_view name) { return quote(name, '`'); }

std::string quote_string(std::string_view value) { return quote(value, '\''); }

}  // namespace pg2ch::clickhouse
