#include "capture/table_sync/table_state.h"

#include <array>

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

}  // namespace pg2ch::capture::table_sync
