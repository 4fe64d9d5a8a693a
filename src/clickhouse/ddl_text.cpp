#include "clickhouse/ddl_text.h"

#include <algorithm>
#include <cctype>

#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool is_quote(char c) { return c == '\'' || c == '`' || c == '"'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The index just past the quoted literal that starts at s[i] (backslash escapes, as ClickHouse
// prints them); s.size() when it is not closed.
std::size_t skip_quoted(std::string_view s, std::size_t i) {
  const char q = s[i];
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == q) {
      return i + 1;
    }
  }
  return s.size();
}

// The index of the bracket closing the one at s[open], or s.size().
std::size_t matching_close(std::string_view s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size();) {
    const char c = s[i];
    if (is_quote(c)) {
      i = skip_quoted(s, i);
      continue;
    }
    if (c == '(' || c == '[') ++depth;
    if ((c == ')' || c == ']') && --depth == 0) return i;
    ++i;
  }
  return s.size();
}

}  // namespace

std::string normalize_type(std::string_view type) {
  std::string out;
  for (std::size_t i = 0; i < type.size();) {
    if (is_quote(type[i])) {
      const std::size_t end = skip_quoted(type, i);
      out.append(type.substr(i, end - i));
      i = end;
    } else {
      if (!is_space(type[i])) out.push_back(type[i]);
      ++i;
    }
  }
  return out;
}

std::vector<std::string> split_top_level(std::string_view list) {
  std::vector<std::string> items;
  if (trim(list).empty()) return items;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size();) {
    if (i == list.size() || list[i] == ',') {
      items.emplace_back(trim(list.substr(start, i - start)));
      start = ++i;
    } else if (is_quote(list[i])) {
      i = skip_quoted(list, i);
    } else if (list[i] == '(' || list[i] == '[') {
      i = matching_close(list, i) + 1;
      if (i > list.size()) i = list.size();
    } else {
      ++i;
    }
  }
  return items;
}

std::vector<std::string> key_items(std::string_view key) {
  key = trim(key);
  while (key.size() >= 2 && key.front() == '(' && matching_close(key, 0) == key.size() - 1)
    key = trim(key.substr(1, key.size() - 2));
  return split_top_level(key);
}

std::string unquote_identifier(std::string_view text) {
  const std::string_view t = trim(text);
  if (t.size() >= 2 && (t.front() == '`' || t.front() == '"') && skip_quoted(t, 0) == t.size()) {
    std::string name;
    for (std::size_t i = 1; i + 1 < t.size(); ++i) {
      if (t[i] == '\\' && i + 2 < t.size()) ++i;
      name.push_back(t[i]);
    }
    return name;
  }
  return std::string(t);
}

std::string identifier_as_shown(std::string_view name) {
  const bool plain = !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front())) &&
                     std::all_of(name.begin(), name.end(), is_word);
  return plain ? std::string(name) : quote_identifier(name);
}

EngineClause parse_engine_clause(std::string_view engine_full) {
  const std::string_view s = trim(engine_full);
  EngineClause e;
  std::size_t i = 0;
  while (i < s.size() && is_word(s[i])) ++i;
  e.name = std::string(s.substr(0, i));
  while (i < s.size() && is_space(s[i])) ++i;
  if (i < s.size() && s[i] == '(') {
    const std::size_t close = matching_close(s, i);
    e.args = split_top_level(s.substr(i + 1, close - i - 1));
  }
  return e;
}

}  // namespace pg2ch::clickhouse
