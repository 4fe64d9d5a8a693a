#include "capture/logical/snapshot_plan.h"

#include <algorithm>

namespace pg2ch::capture::logical {

namespace {

// Tables smaller than this many blocks are one range whatever the workers: below it an INSERT's
// fixed cost outweighs the parallelism.
constexpr std::int64_t kMinRangeBlocks = 1024;

}  // namespace

SourceRelations source_relations(pg::Connection& conn, const pipeline::TableSchema& t) {
  const std::string oid = std::to_string(t.relation_oid);
  SourceRelations out;
  const auto add = [&](std::uint32_t rel_oid, std::string leaf, std::int64_t blocks, const std::string& filenode) {
    out.fingerprint += (out.fingerprint.empty() ? "" : " ") + std::to_string(rel_oid) + ":" + filenode;
    out.list.push_back({rel_oid, std::move(leaf), blocks});
  };
  if (t.partitioned) {
    pg::Result leaves = conn.query(
        "SELECT n.nspname, c.relname, c.relkind, pg_relation_size(c.oid) / current_setting('block_size')::bigint, "
        "c.oid, COALESCE(pg_relation_filenode(c.oid), 0) "
        "FROM pg_partition_tree($1::oid) p JOIN pg_class c ON c.oid = p.relid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE p.isleaf ORDER BY p.level, c.oid",
        {oid});
    bool plain = leaves.rows() > 0;
    for (int i = 0; i < leaves.rows(); ++i) {
      plain = plain && leaves.text(i, 2) == "r";
      add(static_cast<std::uint32_t>(leaves.int64(i, 4)),
          conn.quote_identifier(leaves.text(i, 0)) + "." + conn.quote_identifier(leaves.text(i, 1)),
          leaves.int64(i, 3), leaves.text(i, 5));
    }
    if (plain) return out;
    out = {};
  }
  pg::Result r = conn.query(
      "SELECT pg_relation_size($1::oid) / current_setting('block_size')::bigint, COALESCE(pg_relation_filenode($1::oid), 0)",
      {oid});
  add(t.relation_oid, {}, r.int64(0, 0), r.text(0, 1));
  return out;
}

std::vector<CopyRange> plan_table(const pipeline::TableSchema& t, const SourceRelations& relations, int workers,
                                  std::int64_t max_range_blocks) {
  std::vector<CopyRange> ranges;
  std::int64_t total = 0;
  for (const auto& rel : relations.list) total += rel.blocks;
  const std::int64_t per_worker = std::max<std::int64_t>(kMinRangeBlocks, total / workers + 1);
  if (relations.list.size() > 1 && total <= per_worker && total <= max_range_blocks) {
    ranges.push_back({&t, 0, -1, 0, {}});  // small: one INSERT for all its partitions
    return ranges;
  }
  for (const auto& rel : relations.list) {
    // One range per worker and table (measured on 5M rows with one worker: four ranges were
    // 10-25% slower than one), unless that exceeds the range size a kill may cost.
    const std::int64_t per_range =
        std::max<std::int64_t>(1, std::min(std::max<std::int64_t>(kMinRangeBlocks, rel.blocks / workers + 1),
                                           max_range_blocks));
    if (rel.blocks <= per_range) {
      ranges.push_back({&t, 0, -1, rel.leaf.empty() ? 0 : rel.oid, rel.leaf});
      continue;
    }
    for (std::int64_t b = 0; b < rel.blocks; b += per_range) {
      // The last range is open-ended: pages added since we measured hold no rows our snapshot
      // sees, but being open costs nothing and keeps the plan obviously complete.
      ranges.push_back({&t, b, b + per_range >= rel.blocks ? -1 : b + per_range, rel.leaf.empty() ? 0 : rel.oid,
                        rel.leaf});
    }
  }
  return ranges;
}

std::int64_t max_range_blocks(pg::Connection& conn, int range_mb) {
  const std::int64_t block = conn.query("SELECT current_setting('block_size')::bigint").int64(0, 0);
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(range_mb) * 1024 * 1024 / std::max<std::int64_t>(1, block));
}

}  // namespace pg2ch::capture::logical
