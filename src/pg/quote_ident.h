#pragma once
// PostgreSQL's identifier quoting ("a""b") without a connection, for SQL built ahead of one and
// for names used as keys. Always quotes, so any name (spaces, dots, capitals) survives.
#include <string>
#include <string_view>

namespace pg2ch::pg {

inline std::string quote_ident(std::string_view ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace pg2ch::pg
