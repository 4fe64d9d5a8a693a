#include "clickhouse/target_table.h"

#include <fmt/format.h>

#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {

namespace {

std::string qualified(std::string_view database, std::string_view table) {
  return quote_identifier(database) + "." + quote_identifier(table);
}

std::string column_list(const pipeline::TableSchema& table) {
  std::string cols;
  for (const auto& c : table.target_columns) {
    cols += quote_identifier(c.name);
    cols += ", ";
  }
  cols += pipeline::kVersionColumn;
  cols += ", ";
  cols += pipeline::kDeletedColumn;
  return cols;
}

}  // namespace

std::string engine_clause(const ServerCapabilities& caps) {
  return caps.replacing_is_deleted
             ? fmt::format("ReplacingMergeTree({}, {})", pipeline::kVersionColumn, pipeline::kDeletedColumn)
             : fmt::format("ReplacingMergeTree({})", pipeline::kVersionColumn);
}

std::vector<std::string> sorting_key_columns(const pipeline::TableSchema& table) {
  std::vector<std::string> names;
  for (int i : table.key_target_indexes) names.push_back(table.target_columns[static_cast<std::size_t>(i)].name);
  return names;
}

std::string create_table_statement(std::string_view database, const pipeline::TableSchema& table,
                                   const ServerCapabilities& caps) {
  std::string cols;
  for (const auto& c : table.target_columns) {
    cols += fmt::format("    {} {},\n", quote_identifier(c.name), c.mapping.clickhouse_type);
  }
  cols += fmt::format("    {} {},\n    {} {}", pipeline::kVersionColumn, kVersionType, pipeline::kDeletedColumn,
                      kDeletedType);
  std::string key;
  for (const auto& name : sorting_key_columns(table)) {
    if (!key.empty()) key += ", ";
    key += quote_identifier(name);
  }
  return fmt::format("CREATE TABLE IF NOT EXISTS {} (\n{}\n) ENGINE = {}\nORDER BY ({})",
                     qualified(database, table.target_name), cols, engine_clause(caps), key);
}

std::string current_view_name(const pipeline::TableSchema& table) { return table.target_name + "__current"; }

namespace {

std::string current_view_select(std::string_view database, const pipeline::TableSchema& table) {
  std::string cols;
  for (std::size_t i = 0; i < table.target_columns.size(); ++i) {
    if (i) cols += ", ";
    cols += quote_identifier(table.target_columns[i].name);
  }
  return fmt::format("SELECT {} FROM {} FINAL WHERE {} = 0", cols, qualified(database, table.target_name),
                     pipeline::kDeletedColumn);
}

}  // namespace

std::string create_view_if_missing_statement(std::string_view database, const pipeline::TableSchema& table) {
  return fmt::format("CREATE VIEW IF NOT EXISTS {} AS {}", qualified(database, current_view_name(table)),
                     current_view_select(database, table));
}

std::vector<std::string> create_view_statements(std::string_view database, const pipeline::TableSchema& table,
                                                const ServerCapabilities& caps) {
  const std::string view = qualified(database, current_view_name(table));
  const std::string select = current_view_select(database, table);
  if (caps.create_or_replace_view) return {fmt::format("CREATE OR REPLACE VIEW {} AS {}", view, select)};
  return {fmt::format("DROP TABLE IF EXISTS {}", view), fmt::format("CREATE VIEW {} AS {}", view, select)};
}

std::string insert_statement(std::string_view database, const pipeline::TableSchema& table) {
  return fmt::format("INSERT INTO {} ({}) FORMAT RowBinary", qualified(database, table.target_name),
                     column_list(table));
}

std::string truncate_statement(std::string_view database, const pipeline::TableSchema& table) {
  return fmt::format("TRUNCATE TABLE {}", qualified(database, table.target_name));
}

}  // namespace pg2ch::clickhouse
