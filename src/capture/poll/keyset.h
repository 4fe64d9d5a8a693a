#pragma once
// The SQL of keyset pagination over one table in (watermark, key...) order, built once per table
// from its TableSchema. Pure (unit-tested): identifiers are quoted here, values always travel as
// typed text parameters.
//
//   fresh page:  SELECT <all source columns>, wm::text, k::text...
//                FROM t WHERE wm >= $w AND (wm, k...) > ($w, $k...) ORDER BY wm, k... LIMIT n
//     (`wm >= $w` lets an index on the watermark serve the scan; the key makes equal watermarks,
//     e.g. one transaction's now(), paginate without skipping or repeating; when the watermark
//     is the whole primary key this is just `wm > $w`.)
//   rescan page: the same within the window's keyset range (lo, hi], keeping only rows whose
//     xmin is not visible in the window's snapshot (see pg_snapshot.h for the epoch arithmetic).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "capture/poll/cursor.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::poll {

struct OrderColumn {
  std::string name;
  std::string type;        // format_type(), for the parameter casts
  int source_index = 0;
};

struct Keyset {
  std::vector<OrderColumn> order;  // [watermark, key columns other than the watermark...]
  std::size_t source_columns = 0;  // result columns before the order columns' text forms
  std::string select_list;
  std::string from;
};

// Throws Error(Schema) naming table, column and fix when the column is missing or its type has
// no usable order (ordered types: smallint, integer, bigint, numeric, date, timestamp[tz]).
Keyset make_keyset(const pipeline::TableSchema& table, const std::string& watermark_column);

// Whether `type_oid` can be a watermark.
bool is_watermark_type(std::uint32_t type_oid);

using Params = std::vector<std::optional<std::string>>;

struct Query {
  std::string sql;
  Params params;
};

Query fresh_page_query(const Keyset& k, const std::optional<Cursor>& after, std::size_t limit);

struct RescanRange {
  const std::optional<Cursor>* lo;   // exclusive, in keyset order; nullopt = from the first row
  const Cursor* hi;                  // inclusive, in keyset order
  const std::string* snapshot;       // pg_snapshot text
  std::uint64_t snapshot_xmax = 0;
};
Query rescan_page_query(const Keyset& k, const RescanRange& range, const std::optional<Cursor>& after,
                        std::size_t limit);

// Whether the watermark went back below `at` (a checkpoint): columns (1) the watermark column's
// sequence (serial or identity; NULL without one), (2) its last value as text, (3) whether that
// is below `at`, (4) whether the table's greatest watermark is below `at` (true when it is empty).
Query watermark_reset_query(const Keyset& k, const Cursor& at);

// "name" with embedded quotes doubled (PostgreSQL identifier quoting; UTF-8 safe).
std::string quote_pg_identifier(const std::string& name);

}  // namespace pg2ch::capture::poll
