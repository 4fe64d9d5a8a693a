#pragma once
// Whether a ClickHouse table that already exists (created by the user beforehand, by an older
// pg2ch, or changed since) is one pg2ch can write a source table into and read back correctly.
// Without this check a wrong target is accepted silently: an int4 into a UInt32 column stores -10
// as 4294967286, `ORDER BY (id, _version)` keeps every version and every deleted row, a plain
// MergeTree never replaces anything and the `__current` view shows duplicates.
//
// A target matches when
//   * every column pg2ch writes exists with the type pg2ch would create (Nullable included, the
//     spacing aside) and is an ordinary or DEFAULT column (MATERIALIZED and ALIAS cannot be
//     inserted into); `_version` UInt64 and `_deleted` UInt8 likewise;
//   * the engine is ReplacingMergeTree (Replicated/Shared variants too) with `_version` as its
//     version column, and `_deleted` as is_deleted column if it has one; on a cluster
//     (clickhouse.cluster) only the Replicated variant, whatever its path: a plain one would keep
//     each host's rows to itself;
//   * ORDER BY is exactly the source's key columns, in order (no `_version`, nothing more: the sort
//     key is what ReplacingMergeTree deduplicates on);
//   * PARTITION BY uses key columns only (rows are replaced only within a partition).
// Accepted differences: another column order (every INSERT names its columns, target_table.h),
// and extra columns that have a default (pg2ch never writes them).
#include <string_view>

#include "clickhouse/cluster_layout.h"
#include "clickhouse/server_capabilities.h"
#include "clickhouse/table_shape.h"
#include "pipeline/table_schema.h"

namespace pg2ch::clickhouse {

// Throws Error(Schema) naming the table and every difference found (column, found and expected
// type, engine, key), with the statements that fix what can be altered and the way to re-create
// what cannot.
void check_target_table(const TableShape& found, const pipeline::TableSchema& table, std::string_view database,
                        const ServerCapabilities& caps, const TargetLayout& layout = {});

// Whether an existing <target>__distributed is the Distributed table pg2ch would create: the same
// columns, and Distributed over this cluster, database and target, sharded by the key's hash.
// It holds no rows of its own, so one that differs is re-created rather than refused.
bool distributed_table_matches(const TableShape& found, const pipeline::TableSchema& table,
                               std::string_view database, const TargetLayout& layout);

}  // namespace pg2ch::clickhouse
