#pragma once
// DDL and statements for a replicated table's ClickHouse side:
//   <target>           ReplacingMergeTree(_version[, _deleted]) ORDER BY primary key
//   <target>__current  view: SELECT ... FINAL WHERE _deleted = 0 (the source's current state)
// Version differences: ReplacingMergeTree(ver, is_deleted) is used from 23.2 (lets merges drop
// deleted rows); older servers get ReplacingMergeTree(ver) and the view filters deletes.
// On a cluster (clickhouse/cluster_layout.h) every DDL statement carries ON CLUSTER, the target is
// ReplicatedReplacingMergeTree, and with `distributed` a <target>__distributed table is what the
// view reads and the INSERTs name.
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/cluster_layout.h"
#include "clickhouse/server_capabilities.h"
#include "pipeline/table_schema.h"

namespace pg2ch::clickhouse {

class HttpClient;

// The ClickHouse types of the bookkeeping columns (pipeline::kVersionColumn, kDeletedColumn).
inline constexpr const char* kVersionType = "UInt64";
inline constexpr const char* kDeletedType = "UInt8";

std::string create_database_statement(std::string_view database, const TargetLayout& layout);
std::string create_table_statement(std::string_view database, const pipeline::TableSchema& table,
                                   const ServerCapabilities& caps, const TargetLayout& layout);
// "ReplacingMergeTree(_version)", or with `, _deleted` where the server has is_deleted; on a
// cluster "ReplicatedReplacingMergeTree('<path of database.table>', '{replica}', _version...)".
std::string engine_clause(const ServerCapabilities& caps, const TargetLayout& layout, std::string_view database,
                          std::string_view table_name);
// The table-level settings pg2ch's targets carry ("name = value"): the deduplication window
// (deduplication.h) and, with layout.purge_deleted_after_s, the merges that purge deleted rows:
// parts older than that are merged down to one per partition with CLEANUP, which drops every
// row whose newest version has _deleted = 1 (ClickHouse 23.12+ settings; see
// purge_settings_missing).
std::vector<std::string> table_settings(const ServerCapabilities& caps, const TargetLayout& layout);
// The purge settings this server does not know, from system.merge_tree_settings: purging needs
// all of them. Empty when nothing is missing or layout does not ask for purging.
std::vector<std::string> purge_settings_missing(HttpClient& client, const TargetLayout& layout);
// "ALTER TABLE ... MODIFY SETTING ..." giving an existing target the purge settings, or "" when its
// engine_full (system.tables) shows them already or the layout does not purge.
std::string purge_settings_alter(std::string_view database, const pipeline::TableSchema& table,
                                 const TargetLayout& layout, std::string_view engine_full);
// With layout.distributed: the Distributed table over every shard's target, sharded by the key.
std::string create_distributed_statement(std::string_view database, const pipeline::TableSchema& table,
                                         const TargetLayout& layout);
// The ORDER BY columns: the source's key columns, in key order.
std::vector<std::string> sorting_key_columns(const pipeline::TableSchema& table);
std::string current_view_name(const pipeline::TableSchema& table);
// CREATE VIEW IF NOT EXISTS: leaves a view another process made at the same moment alone.
std::string create_view_if_missing_statement(std::string_view database, const pipeline::TableSchema& table,
                                             const TargetLayout& layout);
// One or two statements (old servers have no CREATE OR REPLACE VIEW): run in order.
std::vector<std::string> create_view_statements(std::string_view database, const pipeline::TableSchema& table,
                                                const ServerCapabilities& caps, const TargetLayout& layout);
// Names every column it writes, so the target's column order does not matter.
std::string insert_statement(std::string_view database, const pipeline::TableSchema& table,
                             const TargetLayout& layout);
// Empties the target (every shard's and replica's, on a cluster).
std::string truncate_statement(std::string_view database, const pipeline::TableSchema& table,
                               const TargetLayout& layout);
// DROP TABLE IF EXISTS of any one of a table's ClickHouse objects (views and Distributed too).
std::string drop_statement(std::string_view database, std::string_view name, const TargetLayout& layout);

}  // namespace pg2ch::clickhouse
