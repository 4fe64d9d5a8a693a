#include "capture/logical/schema_evolution.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "capture/logical/table_gate.h"

namespace pg2ch::capture::logical {

std::optional<std::string> SchemaEvolver::add_columns(const pipeline::TableSchema& table,
                                                      const pg::pgoutput::Relation& rel, Lsn position) {
  if (cfg_.sink != "clickhouse") return std::string("columns are added in place only with sink = \"clickhouse\" yet");
  if (!cfg_.clickhouse.cluster.empty()) return std::string("columns are added in place on a single server only yet");
  const auto added = columns_added_at_end(table, rel);

  // Every row that existed before holds NULL in them: no default of the column or of its type
  // (a domain's), no identity, not generated, nullable; and the table was not rewritten since it
  // was described, which is how PostgreSQL gives existing rows a volatile default or an identity
  // (and how a default dropped again after ADD COLUMN ... DEFAULT stays in them).
  std::string list;
  for (const auto& name : added) list += (list.empty() ? "" : ",") + p_.source.quote_literal(name);
  pg::Result filled = p_.source.query(
      fmt::format("SELECT a.attname, c.relfilenode FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                  "JOIN pg_type ty ON ty.oid = a.atttypid "
                  "LEFT JOIN pg_type base ON base.oid = ty.typbasetype "
                  "WHERE c.oid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attname IN ({}) "
                  "AND (a.atthasdef OR a.atthasmissing OR a.attgenerated <> '' OR a.attidentity <> '' OR a.attnotnull "
                  "OR ty.typdefault IS NOT NULL OR base.typdefault IS NOT NULL OR c.relfilenode <> $2::oid)",
                  list),
      {std::to_string(table.relation_oid), std::to_string(table.relfilenode)});
  if (filled.rows() > 0) {
    return fmt::format("column {} was added with a default, an identity, NOT NULL, or with the table rewritten, so the "
                       "rows already there may hold values the stream does not carry",
                       filled.text(0, 0));
  }

  auto owned = std::find_if(p_.tables.begin(), p_.tables.end(), [&](const auto& t) { return t.get() == &table; });
  auto ref = std::find_if(p_.refs.begin(), p_.refs.end(), [&](const auto& r) { return r.oid == table.relation_oid; });
  if (owned == p_.tables.end() || ref == p_.refs.end()) return std::string("the table is not among the configured ones");
  pipeline::TableSchema fresh =
      pg::describe_table(p_.source, *ref, p_.targets->type_capabilities(), p_.describe_options);
  if (const auto diff = relation_difference(fresh, rel); !diff.empty()) {
    return fmt::format("its columns changed again since ({})", diff);
  }
  std::vector<std::string> new_target_columns;
  for (const auto& c : fresh.target_columns) {
    const bool known = std::any_of(table.target_columns.begin(), table.target_columns.end(),
                                   [&](const auto& old) { return old.name == c.name; });
    if (!known) new_target_columns.push_back(c.name);
  }

  sink_.flush();  // rows of the old shape, with the old columns
  p_.targets->add_columns(fresh, new_target_columns);
  **owned = std::move(fresh);  // in place: every holder of the schema's address sees the new columns
  const pipeline::TableSchema* one[] = {owned->get()};
  p_.targets->ensure(one);  // the view, with the new columns
  fetcher_.forget(table.relation_oid);
  states_.evolved(**owned, position);
  std::string names;
  for (const auto& n : added) names += (names.empty() ? "" : ", ") + n;
  spdlog::info("table {}: column(s) {} added at the source, added to its target in place; streaming on",
               table.qualified_source(), names);
  return std::nullopt;
}

}  // namespace pg2ch::capture::logical
