#pragma once
// DDL and statements for a replicated table's ClickHouse side:
//   <target>           ReplacingMergeTree(_version[, _deleted]) ORDER BY primary key
//   <target>__current  view: SELECT ... FINAL WHERE _deleted = 0 (the source's current state)
// Version differences: ReplacingMergeTree(ver, is_deleted) is used from 23.2 (lets merges drop
// deleted rows); older servers get ReplacingMergeTree(ver) and the view filters deletes.
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/server_capabilities.h"
#include "pipeline/table_schema.h"

namespace pg2ch::clickhouse {

std::string create_table_statement(std::string_view database, const pipeline::TableSchema& table,
                                   const ServerCapabilities& caps);
std::string current_view_name(const pipeline::TableSchema& table);
// CREATE VIEW IF NOT EXISTS: leaves a view another process made at the same moment alone.
std::string create_view_if_missing_statement(std::string_view database, const pipeline::TableSchema& table);
// One or two statements (old servers have no CREATE OR REPLACE VIEW): run in order.
std::vector<std::string> create_view_statements(std::string_view database, const pipeline::TableSchema& table,
                                                const ServerCapabilities& caps);
std::string insert_statement(std::string_view database, const pipeline::TableSchema& table);
std::string truncate_statement(std::string_view database, const pipeline::TableSchema& table);

}  // namespace pg2ch::clickhouse
