#pragma once
// `pg2ch verify`: every configured table (or the ones named) compared row by row between
// PostgreSQL and its ClickHouse target (table_compare.h), with a report on stdout.
#include <ostream>
#include <string>
#include <vector>

#include "config/config.h"
#include "verify/table_compare.h"

namespace pg2ch::verify {

// True when every compared table is equal. Throws pg2ch::Error for what stops the comparison
// itself (a server away, a sink that is not ClickHouse, a table not configured).
bool verify_tables(const config::Config& cfg, const std::vector<std::string>& tables, const CompareOptions& options,
                   std::ostream& out);

}  // namespace pg2ch::verify
