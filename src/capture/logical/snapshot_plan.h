#pragma once
// How a copy cuts tables into ranges: block ranges of each table (`ctid >= '(a,0)' AND ctid <
// '(b,0)'`, a TID range scan since PostgreSQL 14), or of each leaf partition of a partitioned one
// (`FROM ONLY leaf`), which its own pg_relation_size (0) cannot show.
//
// A range is at most logical.snapshot_range_mb: the unit a copy cut short by a kill copies again
// (snapshot_progress.h), so smaller ranges lose less; but every range is another INSERT whose end
// ClickHouse finishes (last block sorted and written) while its worker's pipe runs dry, so a table
// is cut no finer than one range per worker unless it is larger than that.
//
// A table's fingerprint names the relations its rows are read from with their relfilenodes: a
// table rewritten since (VACUUM FULL, CLUSTER, TRUNCATE, a type change), or a partition attached
// or detached, has another one, and block ranges planned before mean nothing for it.
#include <cstdint>
#include <string>
#include <vector>

#include "pg/connection.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::logical {

struct CopyRange {
  const pipeline::TableSchema* table = nullptr;
  std::int64_t first_block = 0;  // inclusive
  std::int64_t end_block = -1;   // exclusive; -1 = to the end of the relation
  std::uint32_t leaf_oid = 0;    // a partitioned table's leaf partition, else 0 (the table itself)
  std::string leaf;              // its quoted schema.name, else empty
};

// What a table's rows are read from: the table itself, or each leaf partition of a partitioned
// one (a partitioned table with a leaf that is no plain table, a foreign table, is read whole).
struct SourceRelation {
  std::uint32_t oid = 0;
  std::string leaf;  // quoted schema.name of a leaf partition; empty for the table itself
  std::int64_t blocks = 0;
};
struct SourceRelations {
  std::vector<SourceRelation> list;
  std::string fingerprint;  // "oid:relfilenode ..." of the relations read
};

SourceRelations source_relations(pg::Connection& conn, const pipeline::TableSchema& table);

// The ranges of one table: `workers` > 0; `max_range_blocks` > 0 (logical.snapshot_range_mb in
// blocks). No server needed: the sizes are in `relations`.
std::vector<CopyRange> plan_table(const pipeline::TableSchema& table, const SourceRelations& relations, int workers,
                                  std::int64_t max_range_blocks);

// logical.snapshot_range_mb in the source's blocks.
std::int64_t max_range_blocks(pg::Connection& conn, int range_mb);

}  // namespace pg2ch::capture::logical
