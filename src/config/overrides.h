#pragma once
// The layers above the TOML file: variables (from a .env file or the process environment) and
// command-line "section.key" overrides.
#include <map>
#include <string>
#include <string_view>

#include "config/config.h"

namespace pg2ch::config::detail {

// `origin` is empty for the process environment, or e.g. ".env file /srv/pg2ch/.env".
// Variables of other programs are ignored; a PG2CH_<SECTION>_<KEY> with a known section but an
// unknown key is a typo and throws.
void apply_variables(Config& config, const std::map<std::string, std::string>& vars, std::string_view origin);

void apply_cli_overrides(Config& config, const std::map<std::string, std::string>& overrides);

}  // namespace pg2ch::config::detail
