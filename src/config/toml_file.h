#pragma once
// The TOML layer: reads the file given with --config and applies every key in it. Keys the
// schema does not know are errors, so a typo never silently leaves a default in place.
#include <string>

#include "config/config.h"

namespace pg2ch::config::detail {

void apply_toml_file(Config& config, const std::string& path);

}  // namespace pg2ch::config::detail
