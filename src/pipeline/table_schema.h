#pragma once
// The shape of one replicated table on both sides: the PostgreSQL columns as the catalog (and
// pgoutput's Relation message) lists them, which of them are replicated, and how each maps to a
// ClickHouse column. Built once per table by pg/catalog + types/map_column and shared by the
// snapshot, the stream and the DDL, so all three always agree on column order and types.
#include <cstdint>
#include <string>
#include <vector>

#include "types/pg_type.h"
#include "types/value_codec.h"

namespace pg2ch::pipeline {

struct SourceColumn {
  std::string name;
  types::PgTypeDesc type;
  bool not_null = false;
  bool is_key = false;          // part of the primary key / replica identity index
  int target_index = -1;        // position among replicated columns, -1 when excluded
  // pg_attribute's own atttypid/atttypmod (a domain's oid, not its base type's): what pgoutput's
  // Relation message names, so a changed column type is seen even when the base type is alike.
  std::uint32_t declared_type_oid = 0;
  std::int32_t declared_typmod = -1;
  // pg_attribute.attnum: a column keeps it when renamed, one dropped and added again gets a new
  // one (pgoutput's Relation message names columns only).
  int attnum = 0;
  // NOT NULL kept for the target by logical.on_not_null_dropped = "ignore" after the catalog
  // dropped it (capture/logical/ignored_changes.h): `not_null` stays true, as the digests the
  // target was recorded with say, and what the catalog says is catalog_not_null(). Compared with
  // `not_null`, the catalog would show a change forever.
  bool not_null_kept = false;
  bool catalog_not_null() const { return not_null && !not_null_kept; }
};

struct TargetColumn {
  std::string name;
  int source_index = 0;         // position among SourceColumn (= pgoutput Relation column order)
  bool is_key = false;
  types::ColumnMapping mapping;
};

struct TableSchema {
  std::uint32_t relation_oid = 0;
  std::string source_schema;
  std::string source_name;
  std::string target_name;      // ClickHouse table (in the configured database)
  char replica_identity = 'd';  // d default(pk), f full, i index, n nothing
  // pg_class.relfilenode when described: a different one later means the table was rewritten
  // (a column added with a volatile default or as an identity, VACUUM FULL, CLUSTER), which
  // may have given existing rows values the stream never carried.
  std::uint32_t relfilenode = 0;
  // A partitioned table (pg_class.relkind 'p'): its rows are its partitions' (at any depth), which
  // pgoutput publishes under its name (publish_via_partition_root); relfilenode is 0.
  bool partitioned = false;
  // The key columns come from [[tables]] key (a table without a primary key or identity index),
  // not from the table: its target is re-created when they change (table_sync::target_digest).
  bool key_from_config = false;
  // The config's include list names the columns to replicate: a column added later is left out.
  bool include_listed = false;
  // Every live column the capture reads, attnum order: for the logical capture exactly what
  // pgoutput's Relation message lists (no generated columns), for captures that SELECT their rows
  // the generated ones too (pg/catalog.h, DescribeOptions).
  std::vector<SourceColumn> source_columns;
  std::vector<TargetColumn> target_columns;   // replicated columns, source order
  std::vector<int> key_target_indexes;        // ORDER BY key, in key order
  std::vector<std::string> notes;             // for setup: columns left out and why

  std::string qualified_source() const { return source_schema + "." + source_name; }
};

// Names of the bookkeeping columns every target table carries.
inline constexpr const char* kVersionColumn = "_version";
inline constexpr const char* kDeletedColumn = "_deleted";
// Snapshot rows carry version 0: every streamed change is newer than the snapshot, including
// changes of transactions that were in flight when the slot's snapshot was taken (their earlier
// changes have LSNs *below* the slot's consistent point, so using that LSN would let stale
// snapshot rows win).
inline constexpr std::uint64_t kSnapshotVersion = 0;

}  // namespace pg2ch::pipeline
