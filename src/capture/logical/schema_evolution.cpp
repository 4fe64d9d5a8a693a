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

  // Every row that existed before holds NULL in them: no default (fast or rewritten).
  std::string list;
  for (const auto& name : added) list += (list.empty() ? "" : ",") + p_.source.quote_literal(name);
  pg::Result defaults = p_.source.query(fmt::format(
      "SELECT attname FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped "
      "AND attname IN ({}) AND (atthasdef OR atthasmissing OR attgenerated <> '')",
      list), {std::to_string(table.relation_oid)});
  if (defaults.rows() > 0) {
    return fmt::format("column {} was added with a default, which the rows already there hold and the stream does not "
                       "carry",
                       defaults.text(0, 0));
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
