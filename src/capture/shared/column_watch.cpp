#include "capture/shared/column_watch.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <vector>

#include "pg/catalog.h"

namespace pg2ch::capture {

namespace {

const pipeline::SourceColumn* by_attnum(const pipeline::TableSchema& t, int attnum) {
  const auto it = std::find_if(t.source_columns.begin(), t.source_columns.end(),
                               [&](const pipeline::SourceColumn& c) { return c.attnum == attnum; });
  return it == t.source_columns.end() ? nullptr : &*it;
}

}  // namespace

std::optional<std::string> result_types_changed(const pg::Result& r, int first, const pipeline::TableSchema& table) {
  for (std::size_t i = 0; i < table.source_columns.size(); ++i) {
    const auto& c = table.source_columns[i];
    const int col = first + static_cast<int>(i);
    if (col >= r.cols()) return fmt::format("column {} is missing from what the source returned", c.name);
    // A column left out of the target (excluded, or added and ignored) is never decoded, and the
    // outbox reads it as an untyped NULL (text): compared, it would be "changed" at every batch.
    if (c.target_index < 0) continue;
    const auto oid = static_cast<std::uint32_t>(PQftype(r.get(), col));
    // The description names a domain's base type and typmod; compare typmods of plain types only.
    const bool plain = c.declared_type_oid == c.type.oid;
    if (oid != c.type.oid || (plain && PQfmod(r.get(), col) != c.type.typmod)) {
      return fmt::format("column {} is no longer {} (type oid {} typmod {} at the source now)", c.name, c.type.name,
                         oid, PQfmod(r.get(), col));
    }
  }
  return std::nullopt;
}

std::string column_changes(const pipeline::TableSchema& was, const pipeline::TableSchema& now) {
  std::vector<std::string> out;
  for (const auto& c : was.source_columns) {
    const auto* n = by_attnum(now, c.attnum);
    if (!n) {
      out.push_back(fmt::format("column {} was dropped", c.name));
      continue;
    }
    if (n->name != c.name) out.push_back(fmt::format("column {} was renamed to {}", c.name, n->name));
    if (n->declared_type_oid != c.declared_type_oid || n->declared_typmod != c.declared_typmod ||
        n->type.name != c.type.name) {
      out.push_back(fmt::format("column {} changed type from {} to {}", n->name, c.type.name, n->type.name));
    }
    if (n->not_null != c.catalog_not_null()) {
      out.push_back(fmt::format("column {} {} NOT NULL", n->name, n->not_null ? "gained" : "dropped"));
    }
    if (n->is_key != c.is_key) out.push_back(fmt::format("column {} {} the key", n->name, c.is_key ? "left" : "joined"));
  }
  for (const auto& n : now.source_columns) {
    if (!by_attnum(was, n.attnum)) out.push_back(fmt::format("column {} ({}) was added", n.name, n.type.name));
  }
  std::string line;
  for (const auto& s : out) line += (line.empty() ? "" : "; ") + s;
  return line;
}

bool ColumnWatch::shape_differs(const pipeline::TableSchema& table) {
  pg::Result r = p_.source.query(
      "SELECT attnum, attname, atttypid, atttypmod, attnotnull, attgenerated <> '' FROM pg_attribute "
      "WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
      {std::to_string(table.relation_oid)});
  std::size_t next = 0;
  for (int i = 0; i < r.rows(); ++i) {
    const auto attnum = static_cast<int>(r.int64(i, 0));
    // A generated column the description left out (pg/catalog.h) is no change.
    if (r.boolean(i, 5) && !by_attnum(table, attnum)) continue;
    if (next == table.source_columns.size()) return true;
    const auto& c = table.source_columns[next++];
    if (attnum != c.attnum || r.text(i, 1) != c.name || r.int64(i, 2) != c.declared_type_oid ||
        r.int64(i, 3) != c.declared_typmod || r.boolean(i, 4) != c.catalog_not_null()) {
      return true;
    }
  }
  return next != table.source_columns.size();
}

ColumnWatch::ColumnWatch(SourceTables& p, std::chrono::milliseconds every, std::chrono::milliseconds pace)
    : p_(p), every_(every), pace_(pace) {}

std::optional<ColumnWatch::Change> ColumnWatch::changed(const pipeline::TableSchema& table, bool now) {
  const auto at = std::chrono::steady_clock::now();
  auto& last = looked_at_[&table];
  if (!now && (at - last < every_ || at < next_look_)) return std::nullopt;
  last = at;
  next_look_ = at + pace_;
  const auto ref = std::find_if(p_.refs.begin(), p_.refs.end(), [&](const pg::TableRef& r) { return r.oid == table.relation_oid; });
  if (ref == p_.refs.end()) return std::nullopt;
  // Its name first: the table is described by oid, and a renamed one reads as unchanged while
  // every query naming it fails.
  const pg::Result name = p_.source.query(
      "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1",
      {std::to_string(table.relation_oid)});
  if (name.rows() == 0) return Change{fmt::format("{} was dropped at the source", table.qualified_source()), true, true};
  if (name.text(0, 0) != table.source_schema || name.text(0, 1) != table.source_name) {
    return Change{fmt::format("{} was renamed to {}.{} at the source", table.qualified_source(), name.text(0, 0),
                              name.text(0, 1)),
                  true};
  }
  try {
    const auto described = pg::describe_table(p_.source, *ref, p_.targets->type_capabilities(), p_.describe_options);
    std::string changes = column_changes(table, described);
    if (changes.empty()) return std::nullopt;
    return Change{fmt::format("the columns of {} changed at the source: {}", table.qualified_source(), changes)};
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Schema && e.kind() != ErrorKind::Config) throw;
    return Change{fmt::format("{} can no longer be replicated as it was: {}", table.qualified_source(), e.one_line())};
  }
}

}  // namespace pg2ch::capture
