#pragma once
// SIGHUP: the configuration is read again from the same sources as at start; what can change
// under a running pipeline is applied at once (log level, batch limits, the summary interval),
// and every other setting that changed is named in a warning as taking effect on the next
// restart. A configuration that no longer loads changes nothing (the error is logged).
#include <string>
#include <vector>

#include "config/config.h"

namespace pg2ch::service {

struct ReloadOutcome {
  std::vector<std::string> applied;        // "section.key" now in effect
  std::vector<std::string> needs_restart;  // changed, but read only at start ("[[tables]]" for tables)
};

// Copies the reloadable settings of `fresh` into `running` (which the pipeline reads) and
// reports what differed. Does not log.
ReloadOutcome apply_reload(config::Config& running, const config::Config& fresh);

// The settings apply_reload() changes in place.
bool is_reloadable(const std::string& key);

}  // namespace pg2ch::service
