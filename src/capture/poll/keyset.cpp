#include "capture/poll/keyset.h"

#include <fmt/format.h>

#include "capture/poll/pg_snapshot.h"
#include "common/error.h"
#include "types/pg_type.h"

namespace pg2ch::capture::poll {

namespace {

std::string param(std::size_t n, const std::string& type) { return fmt::format("${}::{}", n, type); }

// The `(wm, k...) <op> (cursor)` condition; parameters appended to `params`. The extra bare
// `wm >= $w` / `wm <= $w` lets an index on the watermark alone serve the row comparison.
std::string keyset_condition(const Keyset& k, const Cursor& c, bool greater, Params& params) {
  const auto& wm = k.order.front();
  if (c.keys.size() + 1 != k.order.size()) {
    throw Error(ErrorKind::Internal, fmt::format("cursor of {} has {} key values, expected {}", k.from,
                                                 c.keys.size(), k.order.size() - 1));
  }
  const char* strict = greater ? ">" : "<=";
  const char* loose = greater ? ">=" : "<=";
  params.push_back(c.watermark);
  const std::size_t first = params.size();
  if (k.order.size() == 1) return fmt::format("{} {} {}", quote_pg_identifier(wm.name), strict, param(first, wm.type));
  std::string cols, vals;
  for (std::size_t i = 0; i < k.order.size(); ++i) {
    if (i) {
      cols += ", ";
      vals += ", ";
      params.push_back(c.keys[i - 1]);
    }
    cols += quote_pg_identifier(k.order[i].name);
    vals += param(i == 0 ? first : params.size(), k.order[i].type);
  }
  return fmt::format("{} {} {} AND ({}) {} ({})", quote_pg_identifier(wm.name), loose, param(first, wm.type), cols,
                     strict, vals);
}

std::string after_condition(const Keyset& k, const Cursor& c, Params& params) {
  return keyset_condition(k, c, true, params);
}

std::string order_by(const Keyset& k) {
  std::string out;
  for (const auto& c : k.order) {
    if (!out.empty()) out += ", ";
    out += quote_pg_identifier(c.name);
  }
  return out;
}

}  // namespace

std::string quote_pg_identifier(const std::string& name) {
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

bool is_watermark_type(std::uint32_t type_oid) {
  namespace o = types::oid;
  return type_oid == o::kInt2 || type_oid == o::kInt4 || type_oid == o::kInt8 || type_oid == o::kNumeric ||
         type_oid == o::kDate || type_oid == o::kTimestamp || type_oid == o::kTimestampTz;
}

Keyset make_keyset(const pipeline::TableSchema& table, const std::string& watermark_column) {
  Keyset k;
  const pipeline::SourceColumn* wm = nullptr;
  int wm_index = -1;
  for (std::size_t i = 0; i < table.source_columns.size(); ++i) {
    if (table.source_columns[i].name == watermark_column) {
      wm = &table.source_columns[i];
      wm_index = static_cast<int>(i);
    }
  }
  if (!wm) {
    throw Error(ErrorKind::Schema,
                fmt::format("{}: watermark column {} does not exist", table.qualified_source(), watermark_column),
                "set watermark = \"<column>\" in this table's [[tables]] entry (or poll.watermark) to a column "
                "that grows with every change, e.g. id or updated_at");
  }
  if (!is_watermark_type(wm->type.oid)) {
    throw Error(ErrorKind::Schema,
                fmt::format("{}: watermark column {} has type {}, which cannot order changes", table.qualified_source(),
                            watermark_column, wm->type.name),
                "use a smallint, integer, bigint, numeric, date or timestamp[tz] column as watermark "
                "([[tables]] watermark or poll.watermark)");
  }
  k.order.push_back({wm->name, wm->type.name, wm_index});
  for (int ti : table.key_target_indexes) {
    const auto& tc = table.target_columns[static_cast<std::size_t>(ti)];
    if (tc.source_index == wm_index) continue;
    const auto& sc = table.source_columns[static_cast<std::size_t>(tc.source_index)];
    k.order.push_back({sc.name, sc.type.name, tc.source_index});
  }
  for (const auto& c : table.source_columns) {
    if (!k.select_list.empty()) k.select_list += ", ";
    k.select_list += quote_pg_identifier(c.name);
  }
  k.source_columns = table.source_columns.size();
  // Aliased: an output column named like the table column would make ORDER BY ambiguous.
  for (std::size_t i = 0; i < k.order.size(); ++i) {
    k.select_list += fmt::format(", {}::text AS pg2ch_order_{}", quote_pg_identifier(k.order[i].name), i);
  }
  k.from = quote_pg_identifier(table.source_schema) + "." + quote_pg_identifier(table.source_name);
  return k;
}

Query fresh_page_query(const Keyset& k, const std::optional<Cursor>& after, std::size_t limit) {
  Query q;
  const std::string where = after ? after_condition(k, *after, q.params)
                                  : quote_pg_identifier(k.order.front().name) + " IS NOT NULL";
  q.sql = fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}", k.select_list, k.from, where, order_by(k),
                      limit);
  return q;
}

Query rescan_page_query(const Keyset& k, const RescanRange& range, const std::optional<Cursor>& after,
                        std::size_t limit) {
  Query q;
  const XmaxParts x = split_xmax(range.snapshot_xmax);
  q.params = {*range.snapshot, std::to_string(x.epoch), std::to_string(x.low)};
  // The xmin → xid8 conversion of xid8_from_xid32(), in SQL (xmin has no cast to a number but
  // through text).
  const std::string xid8 =
      "((CASE WHEN xmin::text::int8 > $3::int8 THEN greatest($2::int8 - 1, 0) ELSE $2::int8 END << 32)"
      " | xmin::text::int8)::text::xid8";
  // The window is exactly the keyset range (lo, hi] its page covered: every row of it visible in
  // the snapshot was on the page, so what is missing is invisible in it.
  std::string where = keyset_condition(k, *range.hi, false, q.params);
  const std::optional<Cursor>& lower = after ? after : *range.lo;
  if (lower) where += " AND " + after_condition(k, *lower, q.params);
  where += fmt::format(" AND NOT pg_visible_in_snapshot({}, $1::pg_snapshot)", xid8);
  q.sql = fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}", k.select_list, k.from, where, order_by(k),
                      limit);
  return q;
}

Query watermark_reset_query(const Keyset& k, const Cursor& at) {
  const OrderColumn& wm = k.order.front();
  Query q;
  q.params = {at.watermark, k.from, wm.name};
  const std::string greatest_below =
      fmt::format("COALESCE((SELECT max({}) FROM {}) < $1::{}, true)", quote_pg_identifier(wm.name), k.from, wm.type);
  const bool integer = wm.type == "smallint" || wm.type == "integer" || wm.type == "bigint";
  if (!integer) {  // dates and timestamps have no sequence
    q.params = {at.watermark};
    q.sql = "SELECT NULL::text, NULL::text, NULL::bool, " + greatest_below;
    return q;
  }
  // pg_get_serial_sequence parses its first argument as SQL (k.from is quoted) and takes the
  // second literally. pg_sequences shows last_value as NULL, rather than failing, to a role
  // without a privilege on the sequence (pg2ch needs only SELECT on the table).
  q.sql = fmt::format(
      "SELECT q.seq, v.last_value::text, v.last_value < $1::{}, {} "
      "FROM (SELECT pg_get_serial_sequence($2, $3) AS seq) q "
      "LEFT JOIN pg_sequences v ON format('%I.%I', v.schemaname, v.sequencename)::regclass = q.seq::regclass",
      wm.type, greatest_below);
  return q;
}

}  // namespace pg2ch::capture::poll
