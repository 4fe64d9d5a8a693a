#pragma once
// Logging setup: spdlog to stderr (journald captures it under systemd), text or one JSON
// object per line. Row values never reach a log; connection secrets never do either.
#include <string>

namespace pg2ch {

void setup_logging(const std::string& level, const std::string& format);

}  // namespace pg2ch
