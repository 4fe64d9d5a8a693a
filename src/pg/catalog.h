#pragma once
// Reads what pg2ch needs from the source's catalog: which tables a config selects, their
// columns with domain-resolved types, their replica identity key, and the preconditions for
// logical replication (wal_level, REPLICATION privilege, SELECT rights). Every failure is an
// Error naming the object and the fix.
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/server_capabilities.h"
#include "config/config.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"

namespace pg2ch::pg {

struct TableRef {
  std::uint32_t oid = 0;
  std::string schema;
  std::string name;
  const config::TableSelector* selector = nullptr;
  std::string qualified() const { return schema + "." + name; }
};

// A [[tables]] entry that selects nothing at the source: a named table dropped or renamed there,
// or a `schema.*` with no table in it.
struct MissingTable {
  const config::TableSelector* selector = nullptr;
  std::string schema;  // as the entry names it
  std::string name;    // "*" for a pattern
  std::string reason;  // what is wrong, one line
  std::string fix;     // what the operator does about it
};

// Expands "schema.table" and "schema.*" selectors (in config order, without duplicates).
// A named table that does not exist, or a pattern matching nothing, is an Error(Schema); so is a
// partition named while a partitioned table above it is selected too (its rows would arrive
// twice: through the partitioned table's target and its own). `schema.*` never matches partitions.
// With `missing` (`pg2ch status`, which must answer for the other tables), a named table that does
// not exist and a pattern matching nothing are appended there instead, with the reason and fix.
std::vector<TableRef> resolve_tables(Connection& conn, const std::vector<config::TableSelector>& selectors,
                                     std::vector<MissingTable>* missing = nullptr);
// The tables a "schema.*" selector matches now, by name (empty when none, or when `sel` names one
// table): what a running pipeline compares with its tables to find new ones.
std::vector<TableRef> wildcard_matches(Connection& conn, const config::TableSelector& sel);

// What the capture mode can read of a table (capture/capture_mode.h says it per mode).
struct DescribeOptions {
  // Empty: GENERATED ALWAYS AS (...) STORED columns are read with the row (a SELECT) and
  // replicated like any other column. Otherwise why they cannot be: they are left out of
  // source_columns (as pgoutput's Relation message leaves them out) with a note in
  // TableSchema::notes, an include naming one is an Error(Config), and a key column that is one
  // an Error(Schema).
  std::string_view generated_columns_unavailable;
  // A partitioned table is described as one table (pg_class.relkind 'p': its rows are all its
  // partitions' rows, its key the partitioned primary key); false: it is refused.
  bool partitioned_tables = false;
};

// Columns, key and type mappings for one table. Checks: it is an ordinary table (or a
// partitioned one, where options allow), it has a key
// usable for ReplacingMergeTree (primary key, or REPLICA IDENTITY USING INDEX), key columns are
// not excluded, include/exclude name existing columns, every replicated type is supported.
pipeline::TableSchema describe_table(Connection& conn, const TableRef& ref, const clickhouse::ServerCapabilities& caps,
                                     const DescribeOptions& options);

// Preconditions of the logical capture: wal_level = logical, the role may replicate, it can
// SELECT every table, and publishing a table leaves its UPDATEs and DELETEs working
// (pg/replica_identity.h). Throws the first failure; callers run it before the publication is
// touched.
void check_logical_prerequisites(Connection& conn, const std::vector<TableRef>& tables);

}  // namespace pg2ch::pg
