#pragma once
// Logging setup: spdlog to stderr (journald captures it under systemd), text or one JSON
// object per line. Row values never reach a log; connection secrets never do either. A line
// repeated within a minute is logged once with a count of the skipped repeats.
#include <string>

namespace pg2ch {

void setup_logging(const std::string& level, const std::string& format);

}  // namespace pg2ch
