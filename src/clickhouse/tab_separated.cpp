#include "clickhouse/tab_separated.h"

namespace pg2ch::clickhouse {

namespace {

// ClickHouse's TabSeparated escapes; "\N" (NULL) is kept as the two characters.
std::string unescape(std::string_view field) {
  if (field == "\\N") return std::string(field);
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out += field[i];
      continue;
    }
    switch (char e = field[++i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case '0': out += '\0'; break;
      default: out += e;  // \\ \' and anything else escaped literally
    }
  }
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> parse_tab_separated(std::string_view body) {
  std::vector<std::vector<std::string>> rows;
  while (!body.empty()) {
    auto eol = body.find('\n');
    auto line = body.substr(0, eol);
    body = eol == std::string_view::npos ? std::string_view() : body.substr(eol + 1);
    std::vector<std::string> row;
    for (;;) {
      auto tab = line.find('\t');
      row.push_back(unescape(line.substr(0, tab)));
      if (tab == std::string_view::npos) break;
      line = line.substr(tab + 1);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace pg2ch::clickhouse
