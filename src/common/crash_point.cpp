#include "common/crash_point.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace pg2ch {

void crash_point(std::string_view name) {
  static const std::string chosen = [] {
    const char* v = std::getenv("PG2CH_CRASH_AT");
    return std::string(v ? v : "");
  }();
  if (chosen.empty() || chosen != name) return;
  spdlog::warn("PG2CH_CRASH_AT={}: exiting here as a test asked", name);
  spdlog::default_logger()->flush();
  ::_exit(137);
}

}  // namespace pg2ch
