#include "clickhouse/target_table.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "clickhouse/deduplication.h"
#include "clickhouse/http_client.h"
#include "clickhouse/tab_separated.h"

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

// "    `a` Int32,\n ... _deleted UInt8": the target's columns, also the Distributed table's.
std::string column_definitions(const pipeline::TableSchema& table) {
  std::string cols;
  for (const auto& c : table.target_columns) {
    cols += fmt::format("    {} {},\n", quote_identifier(c.name), c.mapping.clickhouse_type);
  }
  cols += fmt::format("    {} {},\n    {} {}", pipeline::kVersionColumn, kVersionType, pipeline::kDeletedColumn,
                      kDeletedType);
  return cols;
}

}  // namespace

std::string create_database_statement(std::string_view database, const TargetLayout& layout) {
  return fmt::format("CREATE DATABASE IF NOT EXISTS {}{}", quote_identifier(database), on_cluster(layout));
}

std::string engine_clause(const ServerCapabilities& caps, const TargetLayout& layout, std::string_view database,
                          std::string_view table_name) {
  const std::string version_args =
      caps.replacing_is_deleted ? fmt::format("{}, {}", pipeline::kVersionColumn, pipeline::kDeletedColumn)
                                : std::string(pipeline::kVersionColumn);
  if (!layout.clustered()) return fmt::format("ReplacingMergeTree({})", version_args);
  return fmt::format("ReplicatedReplacingMergeTree({}, {}, {})", quote_string(replication_path(database, table_name)),
                     quote_string(kReplicaName), version_args);
}

std::vector<std::string> sorting_key_columns(const pipeline::TableSchema& table) {
  std::vector<std::string> names;
  for (int i : table.key_target_indexes) names.push_back(table.target_columns[static_cast<std::size_t>(i)].name);
  return names;
}

std::string create_table_statement(std::string_view database, const pipeline::TableSchema& table,
                                   const ServerCapabilities& caps, const TargetLayout& layout) {
  std::string key;
  for (const auto& name : sorting_key_columns(table)) {
    if (!key.empty()) key += ", ";
    key += quote_identifier(name);
  }
  const auto listed = table_settings(caps, layout);
  const std::string settings = listed.empty() ? "" : fmt::format("\nSETTINGS {}", fmt::join(listed, ", "));
  return fmt::format("CREATE TABLE IF NOT EXISTS {}{} (\n{}\n) ENGINE = {}\nORDER BY ({}){}",
                     qualified(database, table.target_name), on_cluster(layout), column_definitions(table),
                     engine_clause(caps, layout, database, table.target_name), key, settings);
}

namespace {

// The settings that make merges purge deleted rows, and their values for `after_s`.
std::vector<std::pair<std::string, std::string>> purge_settings(int after_s) {
  return {{"allow_experimental_replacing_merge_with_cleanup", "1"},
          {"enable_replacing_merge_with_cleanup_for_min_age_to_force_merge", "1"},
          {"min_age_to_force_merge_on_partition_only", "1"},
          {"min_age_to_force_merge_seconds", std::to_string(after_s)}};
}

}  // namespace

std::vector<std::string> table_settings(const ServerCapabilities& caps, const TargetLayout& layout) {
  std::vector<std::string> settings;
  // Replicated tables keep a deduplication window by default; a plain one needs it set for the
  // batches' insert_deduplication_token to count (deduplication.h).
  if (caps.insert_deduplication_token && !layout.clustered())
    settings.push_back(fmt::format("non_replicated_deduplication_window = {}", kDeduplicationWindow));
  if (layout.purge_deleted_after_s > 0)
    for (const auto& [name, value] : purge_settings(layout.purge_deleted_after_s)) settings.push_back(name + " = " + value);
  return settings;
}

std::vector<std::string> purge_settings_missing(HttpClient& client, const TargetLayout& layout) {
  if (layout.purge_deleted_after_s <= 0) return {};
  const auto settings = purge_settings(layout.purge_deleted_after_s);
  std::vector<std::string> names;
  for (const auto& [name, _] : settings) names.push_back(quote_string(name));
  std::set<std::string> known;
  for (auto& row : parse_tab_separated(client.query(fmt::format(
           "SELECT name FROM system.merge_tree_settings WHERE name IN ({})", fmt::join(names, ", ")))))
    known.insert(std::move(row.at(0)));
  std::vector<std::string> missing;
  for (const auto& [name, _] : settings)
    if (!known.contains(name)) missing.push_back(name);
  return missing;
}

std::string purge_settings_alter(std::string_view database, const pipeline::TableSchema& table,
                                 const TargetLayout& layout, std::string_view engine_full) {
  if (layout.purge_deleted_after_s <= 0) return "";
  std::vector<std::string> changes;
  for (const auto& [name, value] : purge_settings(layout.purge_deleted_after_s)) {
    const std::string wanted = name + " = " + value;
    if (engine_full.find(wanted) == std::string_view::npos) changes.push_back(wanted);
  }
  if (changes.empty()) return "";
  return fmt::format("ALTER TABLE {}{} MODIFY SETTING {}", qualified(database, table.target_name),
                     on_cluster(layout), fmt::join(changes, ", "));
}

std::string create_distributed_statement(std::string_view database, const pipeline::TableSchema& table,
                                         const TargetLayout& layout) {
  // String literals, not identifiers: any name survives, and 18.16 reads both.
  return fmt::format("CREATE TABLE IF NOT EXISTS {}{} (\n{}\n) ENGINE = Distributed({}, {}, {}, {})",
                     qualified(database, distributed_table_name(table)), on_cluster(layout),
                     column_definitions(table), quote_string(layout.cluster), quote_string(database),
                     quote_string(table.target_name), sharding_key(table));
}

std::string current_view_name(const pipeline::TableSchema& table) { return table.target_name + "__current"; }

namespace {

std::string current_view_select(std::string_view database, const pipeline::TableSchema& table,
                                const TargetLayout& layout) {
  std::string cols;
  for (std::size_t i = 0; i < table.target_columns.size(); ++i) {
    if (i) cols += ", ";
    cols += quote_identifier(table.target_columns[i].name);
  }
  // Through a Distributed table FINAL runs on each shard: right because the sharding key keeps all
  // versions of a key on one shard (cluster_layout.h).
  return fmt::format("SELECT {} FROM {} FINAL WHERE {} = 0", cols,
                     qualified(database, read_table_name(layout, table)), pipeline::kDeletedColumn);
}

}  // namespace

std::string create_view_if_missing_statement(std::string_view database, const pipeline::TableSchema& table,
                                             const TargetLayout& layout) {
  return fmt::format("CREATE VIEW IF NOT EXISTS {}{} AS {}", qualified(database, current_view_name(table)),
                     on_cluster(layout), current_view_select(database, table, layout));
}

std::vector<std::string> create_view_statements(std::string_view database, const pipeline::TableSchema& table,
                                                const ServerCapabilities& caps, const TargetLayout& layout) {
  const std::string view = qualified(database, current_view_name(table)) + on_cluster(layout);
  const std::string select = current_view_select(database, table, layout);
  if (caps.create_or_replace_view) return {fmt::format("CREATE OR REPLACE VIEW {} AS {}", view, select)};
  return {fmt::format("DROP TABLE IF EXISTS {}", view), fmt::format("CREATE VIEW {} AS {}", view, select)};
}

std::string insert_statement(std::string_view database, const pipeline::TableSchema& table,
                             const TargetLayout& layout) {
  return fmt::format("INSERT INTO {} ({}) FORMAT RowBinary", qualified(database, insert_table_name(layout, table)),
                     column_list(table));
}

std::string truncate_statement(std::string_view database, const pipeline::TableSchema& table,
                               const TargetLayout& layout) {
  return fmt::format("TRUNCATE TABLE {}{}", qualified(database, table.target_name), on_cluster(layout));
}

std::string drop_statement(std::string_view database, std::string_view name, const TargetLayout& layout) {
  return fmt::format("DROP TABLE IF EXISTS {}{}", qualified(database, name), on_cluster(layout));
}

}  // namespace pg2ch::clickhouse
