#pragma once
// Reads what pg2ch needs from the source's catalog: which tables a config selects, their
// columns with domain-resolved types, their replica identity key, and the preconditions for
// logical replication (wal_level, REPLICATION privilege, SELECT rights). Every failure is an
// Error naming the object and the fix.
#include <string>
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

// Expands "schema.table" and "schema.*" selectors (in config order, without duplicates).
// A named table that does not exist, or a pattern matching nothing, is an Error(Schema).
std::vector<TableRef> resolve_tables(Connection& conn, const std::vector<config::TableSelector>& selectors);

// Columns, key and type mappings for one table. Checks: it is an ordinary table, it has a key
// usable for ReplacingMergeTree (primary key, or REPLICA IDENTITY USING INDEX), key columns are
// not excluded, include/exclude name existing columns, every replicated type is supported.
pipeline::TableSchema describe_table(Connection& conn, const TableRef& ref, const clickhouse::ServerCapabilities& caps);

// Preconditions of the logical capture: wal_level = logical, the role may replicate, it can
// SELECT every table, and publishing a table leaves its UPDATEs and DELETEs working
// (pg/replica_identity.h). Throws the first failure; callers run it before the publication is
// touched.
void check_logical_prerequisites(Connection& conn, const std::vector<TableRef>& tables);

}  // namespace pg2ch::pg
