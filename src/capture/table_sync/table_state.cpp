#include "capture/table_sync/table_state.h"

#include <fmt/format.h>

#include <array>
#include <charconv>

namespace pg2ch::capture::table_sync {

namespace {
constexpr std::array<std::pair<TablePhase, std::string_view>, 5> kNames{{
    {TablePhase::Init, "init"},
    {TablePhase::Copying, "copying"},
    {TablePhase::CatchingUp, "catching_up"},
    {TablePhase::Streaming, "streaming"},
    {TablePhase::Stopped, "stopped"},
}};
}  // namespace

std::string_view to_string(TablePhase phase) {
  for (const auto& [p, name] : kNames) {
    if (p == phase) return name;
  }
  return "unknown";
}

std::optional<TablePhase> parse_phase(std::string_view text) {
  for (const auto& [p, name] : kNames) {
    if (name == text) return p;
  }
  return std::nullopt;
}

std::string format_partition_offsets(const PartitionOffsets& offsets) {
  std::string out;
  for (const auto& [tp, offset] : offsets) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}[{}]={}", tp.first, tp.second, offset);
  }
  return out;
}

std::optional<PartitionOffsets> parse_partition_offsets(std::string_view text) {
  PartitionOffsets out;
  const auto number = [](std::string_view s, auto& value) {
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty() && value >= 0;
  };
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return std::nullopt;  // a trailing comma
    const auto open = item.rfind("]=");
    const auto bracket = item.rfind('[', open);
    if (open == std::string_view::npos || bracket == std::string_view::npos || bracket == 0) return std::nullopt;
    int partition = 0;
    std::int64_t offset = 0;
    if (!number(item.substr(bracket + 1, open - bracket - 1), partition) || !number(item.substr(open + 2), offset)) {
      return std::nullopt;
    }
    out[{std::string(item.substr(0, bracket)), partition}] = offset;
  }
  return out;
}

}  // namespace pg2ch::capture::table_sync
