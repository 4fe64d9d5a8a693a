#pragma once
// What ClickHouse says about tables and views that exist (system.tables, system.columns): enough
// to tell whether one is the target pg2ch would create (clickhouse/target_check.h) and whether a
// name is taken by a view or by something else.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {

struct ColumnShape {
  std::string name;
  std::string type;           // as system.columns reports it: "Nullable(Decimal(10, 2))"
  std::string default_kind;   // "", DEFAULT, MATERIALIZED, ALIAS (EPHEMERAL on newer servers)
  bool in_partition_key = false;
  std::string default_expression;  // as system.columns reports it ("NULL", "CAST('7', 'Int32')"); "" when none
};

struct TableShape {
  std::string engine;         // "ReplacingMergeTree", "View", ...
  std::string engine_full;    // "ReplacingMergeTree(_version) ORDER BY id SETTINGS ..." (empty for views)
  std::string sorting_key;    // "id, `we ird`" (ClickHouse 18.16 has it too; empty without ORDER BY)
  std::vector<ColumnShape> columns;  // in table order
};

// The tables and views of `database` whose names are in `names`; a name that is not in the
// answer does not exist. Two queries whatever the number of names.
std::map<std::string, TableShape> read_table_shapes(HttpClient& client, std::string_view database,
                                                    const std::vector<std::string>& names);

}  // namespace pg2ch::clickhouse
