#pragma once
// Reading figures out of a pg2ch log (stderr text): how often a line occurs, the number after a
// phrase.
#include <regex>
#include <string>

namespace pg2ch::test {

inline std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The first number after the regular expression `prefix` in `text`, or -1.
inline long number_after(const std::string& text, const std::string& prefix) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(prefix + "[^0-9]*([0-9]+)"))) return -1;
  return std::stol(m[1]);
}

}  // namespace pg2ch::test
