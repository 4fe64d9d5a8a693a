// .env files: the docker-compose / systemd EnvironmentFile habit of keeping secrets out of the
// TOML file. Supported: KEY=VALUE, `export KEY=VALUE`, spaces around '=', '#' comment lines and
// ` #` trailing comments on unquoted values, 'single quotes' (literal), "double quotes" (\n \t \r
// \" \\ escapes; any other backslash is kept). No ${VAR} expansion: values mean what they say.
// Errors give origin:line but never the line itself, which may hold a password.
#include <string>

#include "common/error.h"
#include "config/config.h"
#include "config/strings.h"

namespace pg2ch::config {
namespace {

struct Malformed {
  std::string problem;
};

bool key_char(char c, bool first) {
  return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

std::string_view take_key(std::string_view& line) {
  std::size_t n = 0;
  while (n < line.size() && key_char(line[n], n == 0)) ++n;
  if (n == 0) throw Malformed{"expected a variable name (letters, digits, '_') at the start"};
  auto key = line.substr(0, n);
  line.remove_prefix(n);
  return key;
}

// After a closing quote only blanks and a comment may follow.
void expect_end(std::string_view rest) {
  rest = detail::trim(rest);
  if (!rest.empty() && rest.front() != '#') throw Malformed{"unexpected text after the closing quote"};
}

std::string single_quoted(std::string_view v) {
  auto close = v.find('\'', 1);
  if (close == std::string_view::npos) throw Malformed{"single quote is not closed on the same line"};
  expect_end(v.substr(close + 1));
  return std::string(v.substr(1, close - 1));
}

std::string double_quoted(std::string_view v) {
  std::string out;
  for (std::size_t i = 1; i < v.size(); ++i) {
    char c = v[i];
    if (c == '"') {
      expect_end(v.substr(i + 1));
      return out;
    }
    if (c != '\\' || i + 1 == v.size()) {
      out += c;
      continue;
    }
    switch (char e = v[++i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      default: out += '\\'; out += e;  // e.g. a Windows path: keep it as written
    }
  }
  throw Malformed{"double quote is not closed on the same line"};
}

std::string unquoted(std::string_view v) {
  // '#' starts a comment only after a blank, so "pa#ss" stays one value.
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] == '#' && detail::is_space(v[i - 1])) {
      v = v.substr(0, i);
      break;
    }
  return std::string(detail::trim(v));
}

// Returns false for blank and comment lines.
bool parse_line(std::string_view line, std::string& key, std::string& value) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  line = detail::trim(line);
  if (line.empty() || line.front() == '#') return false;
  if (line.starts_with("export") && line.size() > 6 && detail::is_space(line[6]))
    line = detail::trim(line.substr(6));
  key = take_key(line);
  line = detail::trim(line);
  if (line.empty() || line.front() != '=') throw Malformed{"expected '=' after the variable name"};
  line = detail::trim(line.substr(1));
  if (line.starts_with('\''))
    value = single_quoted(line);
  else if (line.starts_with('"'))
    value = double_quoted(line);
  else
    value = unquoted(line);
  return true;
}

}  // namespace

std::map<std::string, std::string> parse_dotenv(const std::string& text, const std::string& origin) {
  std::map<std::string, std::string> vars;
  std::size_t line_no = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    ++line_no;
    auto eol = rest.find('\n');
    auto line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    std::string key, value;
    try {
      if (parse_line(line, key, value)) vars[key] = std::move(value);  // later lines win, as in a shell
    } catch (const Malformed& m) {
      throw Error(ErrorKind::Config, origin + ":" + std::to_string(line_no) + ": malformed line: " + m.problem,
                  "write KEY=VALUE, quoting values that contain spaces or '#'");
    }
  }
  return vars;
}

}  // namespace pg2ch::config
