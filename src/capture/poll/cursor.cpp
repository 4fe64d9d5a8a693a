#include "capture/poll/cursor.h"

#include <charconv>

namespace pg2ch::capture::poll {

namespace {

constexpr std::string_view kPrefix = "v1";

void put_field(std::string& out, std::string_view v) {
  out += ' ';
  out += std::to_string(v.size());
  out += ':';
  out += v;
}

// Reads " <n>:<bytes>" from the front of `in`.
std::optional<std::string> take_field(std::string_view& in) {
  if (in.size() < 3 || in[0] != ' ') return std::nullopt;
  in.remove_prefix(1);
  const auto colon = in.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(in.data(), in.data() + colon, n);
  if (ec != std::errc() || p != in.data() + colon || in.size() - colon - 1 < n) return std::nullopt;
  std::string v(in.substr(colon + 1, n));
  in.remove_prefix(colon + 1 + n);
  return v;
}

}  // namespace

std::string encode_checkpoint(std::string_view column, const Cursor& cursor) {
  std::string out(kPrefix);
  put_field(out, column);
  put_field(out, cursor.watermark);
  for (const auto& k : cursor.keys) put_field(out, k);
  return out;
}

std::optional<Checkpoint> decode_checkpoint(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  Checkpoint c;
  auto column = take_field(text);
  auto wm = take_field(text);
  if (!column || !wm) return std::nullopt;
  c.column = std::move(*column);
  c.cursor.watermark = std::move(*wm);
  while (!text.empty()) {
    auto k = take_field(text);
    if (!k) return std::nullopt;
    c.cursor.keys.push_back(std::move(*k));
  }
  return c;
}

}  // namespace pg2ch::capture::poll
