#pragma once
// [[tables]] selectors: validation shared by the TOML form (with target/include/exclude) and the
// comma-separated form of PG2CH_TABLES / --set tables=... (patterns only).
#include <string_view>
#include <vector>

#include "config/config.h"

namespace pg2ch::config::detail {

// "public.orders, sales.*" -> selectors with only `pattern` set. Blank items are skipped.
std::vector<TableSelector> parse_table_list(std::string_view text);

// Validates every selector and replaces config.tables: a source that sets tables sets all of them,
// so a list from the environment never merges with one from the file. `source` describes where
// the list came from; selectors are named "tables[N]" (1-based) in errors.
void set_tables(Config& config, std::vector<TableSelector> tables, std::string_view source);

// Throws Error(Config) with a hint when no source configured any table.
void require_tables(const Config& config);

}  // namespace pg2ch::config::detail
