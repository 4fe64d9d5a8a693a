#include "capture/logical/schema_evolution.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "capture/logical/table_gate.h"
#include "capture/logical/type_widening.h"
#include "clickhouse/column_conversion.h"

namespace pg2ch::capture::logical {

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

const pipeline::SourceColumn* source_column(const pipeline::TableSchema& t, std::string_view name) {
  const auto it =
      std::find_if(t.source_columns.begin(), t.source_columns.end(), [&](const auto& c) { return c.name == name; });
  return it == t.source_columns.end() ? nullptr : &*it;
}

const pipeline::TargetColumn* target_column(const pipeline::TableSchema& t, std::string_view name) {
  const auto it =
      std::find_if(t.target_columns.begin(), t.target_columns.end(), [&](const auto& c) { return c.name == name; });
  return it == t.target_columns.end() ? nullptr : &*it;
}

}  // namespace

std::optional<std::string> SchemaEvolver::evolve(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                                 Lsn position) {
  if (relation_difference(table, rel).empty()) return follow_nullability(table, rel, position);
  if (auto why_not = cannot_evolve()) return why_not;
  if (const auto added = columns_added_at_end(table, rel); !added.empty()) {
    if (cfg_.logical.on_column_added == "stop") return std::string("logical.on_column_added is \"stop\"");
    return add_columns(table, rel, added, position);
  }
  if (const auto widened = columns_widened(table, rel); !widened.empty()) {
    if (cfg_.logical.on_type_widened == "stop") return std::string("logical.on_type_widened is \"stop\"");
    return widen_columns(table, rel, widened, position);
  }
  if (const auto dropped = columns_dropped(table, rel); !dropped.empty()) {
    if (cfg_.logical.on_column_dropped == "stop") return std::string("logical.on_column_dropped is \"stop\"");
    return drop_columns(table, rel, dropped, position);
  }
  if (const auto renamed = columns_renamed(table, rel); !renamed.empty()) {
    if (cfg_.logical.on_column_renamed == "stop") return std::string("logical.on_column_renamed is \"stop\"");
    return rename_columns(table, rel, renamed, position);
  }
  return std::string("the change is not one pg2ch applies in place");
}

std::optional<std::string> SchemaEvolver::cannot_evolve() const {
  if (cfg_.sink != "clickhouse") return std::string("columns change in place only with sink = \"clickhouse\" yet");
  if (!cfg_.clickhouse.cluster.empty()) return std::string("columns change in place on a single server only yet");
  return std::nullopt;
}

std::optional<std::string> SchemaEvolver::add_columns(const pipeline::TableSchema& table,
                                                      const pg::pgoutput::Relation& rel,
                                                      const std::vector<std::string>& added, Lsn position) {
  // Every row that existed before holds NULL in them: no default of the column or of its type
  // (a domain's), no identity, not generated, nullable; and the table was not rewritten since it
  // was described, which is how PostgreSQL gives existing rows a volatile default or an identity
  // (and how a default dropped again after ADD COLUMN ... DEFAULT stays in them).
  for (const auto& name : added) {
    if (name_taken_before(table, name)) {
      return fmt::format("a column named {} was dropped or renamed earlier: rows read again could not tell the two "
                         "apart (and a dropped one's target column, kept, holds its values)",
                         name);
    }
  }
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
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  std::vector<std::string> new_target_columns;
  for (const auto& c : next.target_columns) {
    if (!target_column(table, c.name)) new_target_columns.push_back(c.name);
  }
  // A column of the table that lost NOT NULL meanwhile (the Relation message cannot say).
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  replace(table, std::move(next), new_target_columns, std::get<std::vector<std::string>>(retyped), position);
  spdlog::info("table {}: column(s) {} added at the source, added to its target in place; streaming on",
               table.qualified_source(), joined(added));
  return std::nullopt;
}

std::optional<std::string> SchemaEvolver::widen_columns(const pipeline::TableSchema& table,
                                                        const pg::pgoutput::Relation& rel,
                                                        const std::vector<std::string>& widened, Lsn position) {
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);

  bool rewrite_expected = false;
  for (const auto& name : widened) {
    const auto* before = source_column(table, name);
    const auto* after = source_column(next, name);
    rewrite_expected = rewrite_expected || widening_rewrites({before->declared_type_oid, before->declared_typmod},
                                                             {after->declared_type_oid, after->declared_typmod});
  }
  // A widening that is only a new typmod does not rewrite the table; one that did ran a USING
  // expression, which may have changed every value without the stream carrying any of them.
  if (!rewrite_expected && next.relfilenode != table.relfilenode) {
    return fmt::format("the table was rewritten with column(s) {} (ALTER ... TYPE ... USING, or VACUUM FULL since): "
                       "the rows already there may hold values the stream does not carry",
                       joined(widened));
  }
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  const auto modified = std::get<std::vector<std::string>>(std::move(retyped));
  replace(table, std::move(next), {}, modified, position);
  spdlog::info("table {}: column(s) {} widened at the source, {}; streaming on", table.qualified_source(),
               joined(widened),
               modified.empty() ? std::string("its target unchanged (same ClickHouse types)")
                                : fmt::format("target column(s) {} changed in place", joined(modified)));
  return std::nullopt;
}

std::optional<std::string> SchemaEvolver::drop_columns(const pipeline::TableSchema& table,
                                                       const pg::pgoutput::Relation& rel,
                                                       const std::vector<std::string>& dropped, Lsn position) {
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  std::vector<std::string> kept;
  for (const auto& name : dropped) {
    if (target_column(table, name)) kept.push_back(name);
  }
  replace(table, std::move(next), {}, std::get<std::vector<std::string>>(retyped), position, kept, dropped);
  spdlog::info("table {}: column(s) {} dropped at the source; {}; streaming on", table.qualified_source(),
               joined(dropped),
               kept.empty() ? std::string("they were not replicated")
                            : fmt::format("target column(s) {} kept with their values, NULL from now on", joined(kept)));
  return std::nullopt;
}

std::optional<std::string> SchemaEvolver::rename_columns(
    const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
    const std::vector<std::pair<std::string, std::string>>& renamed, Lsn position) {
  std::vector<std::pair<std::string, std::string>> in_target;
  for (const auto& [from, to] : renamed) {
    if (name_taken_before(table, to)) {
      return fmt::format("column {} was renamed to {}, a name a column dropped or renamed earlier had: rows read "
                         "again could not tell the two apart",
                         from, to);
    }
    const auto* c = target_column(table, from);
    if (!c) continue;  // not replicated
    if (c->is_key) return fmt::format("column {} is in the target's sorting key, which ClickHouse cannot rename", from);
    in_target.emplace_back(from, to);
  }
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  // The Relation message names columns only: the same attnum under a new name is a rename, a new
  // one is a column dropped and another added in its place, whose rows hold NULL there.
  for (const auto& [from, to] : renamed) {
    const auto* before = source_column(table, from);
    const auto* after = source_column(next, to);
    if (!before || !after || before->attnum == 0 || before->attnum != after->attnum) {
      return fmt::format("column {} was dropped and {} added in its place (not a rename: another attnum)", from, to);
    }
  }
  if (!in_target.empty() && !p_.targets->type_capabilities().rename_column) {
    return fmt::format("ClickHouse {} cannot rename a column (RENAME COLUMN needs 20.4)",
                       p_.targets->type_capabilities().version.text);
  }
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  std::string names;
  for (const auto& [from, to] : renamed) names += fmt::format("{}{} to {}", names.empty() ? "" : ", ", from, to);
  replace(table, std::move(next), {}, std::get<std::vector<std::string>>(retyped), position, {}, {}, in_target,
          renamed);
  spdlog::info("table {}: column(s) {} renamed at the source, {}; streaming on", table.qualified_source(), names,
               in_target.empty() ? std::string("none of them replicated") : std::string("renamed on its target"));
  return std::nullopt;
}

bool SchemaEvolver::name_taken_before(const pipeline::TableSchema& table, std::string_view name) const {
  const auto& s = states_.at(table);
  return std::find(s.dropped_columns.begin(), s.dropped_columns.end(), name) != s.dropped_columns.end() ||
         std::any_of(s.renamed_columns.begin(), s.renamed_columns.end(),
                     [&](const auto& r) { return r.first == name || r.second == name; });
}

std::optional<std::string> SchemaEvolver::follow_nullability(const pipeline::TableSchema& table,
                                                             const pg::pgoutput::Relation& rel, Lsn position) {
  // pgoutput's Relation message has no NOT NULL: a new one with the same columns may follow a
  // DROP NOT NULL (or any other invalidation), so the catalog says which columns lost it. It may
  // answer for a later moment than the Relation's; a column made nullable early holds no NULL
  // yet, so that is exact too. A Kafka-only pipeline writes the NULL as it comes: nothing to do.
  if (cfg_.sink == "kafka") return std::nullopt;
  std::string list;
  for (const auto& c : table.source_columns) {
    if (c.not_null && c.target_index >= 0) list += (list.empty() ? "" : ",") + p_.source.quote_literal(c.name);
  }
  if (list.empty()) return std::nullopt;
  pg::Result nullable = p_.source.query(
      fmt::format("SELECT attname FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped "
                  "AND NOT attnotnull AND attname IN ({}) ORDER BY attnum",
                  list),
      {std::to_string(table.relation_oid)});
  if (nullable.rows() == 0) return std::nullopt;
  std::vector<std::string> names;
  for (int i = 0; i < nullable.rows(); ++i) names.push_back(nullable.text(i, 0));
  if (auto why_not = cannot_evolve()) {
    return fmt::format("column(s) {} may hold NULL now (DROP NOT NULL), but {}", joined(names), *why_not);
  }
  if (cfg_.logical.on_not_null_dropped == "stop") {
    return fmt::format("column(s) {} may hold NULL now (DROP NOT NULL), and logical.on_not_null_dropped is \"stop\"",
                       joined(names));
  }
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  const auto modified = std::get<std::vector<std::string>>(std::move(retyped));
  replace(table, std::move(next), {}, modified, position);
  spdlog::info("table {}: column(s) {} may hold NULL now (DROP NOT NULL), {}; streaming on", table.qualified_source(),
               joined(names),
               modified.empty() ? std::string("its target unchanged")
                                : fmt::format("target column(s) {} made Nullable in place", joined(modified)));
  return std::nullopt;
}

std::variant<std::vector<std::string>, std::string> SchemaEvolver::retyped_target_columns(
    const pipeline::TableSchema& table, const pipeline::TableSchema& next) {
  std::vector<std::string> modified;
  for (const auto& after : next.target_columns) {
    const auto* before = target_column(table, after.name);
    if (!before || before->mapping.clickhouse_type == after.mapping.clickhouse_type) continue;
    if (before->is_key || after.is_key) {
      return fmt::format("column {} is in the target's sorting key, whose type ClickHouse cannot change ({} to {})",
                         after.name, before->mapping.clickhouse_type, after.mapping.clickhouse_type);
    }
    if (!clickhouse::converts_exactly(before->mapping.clickhouse_type, after.mapping.clickhouse_type)) {
      return fmt::format("column {} would change from {} to {} in ClickHouse, which does not keep every value exactly",
                         after.name, before->mapping.clickhouse_type, after.mapping.clickhouse_type);
    }
    modified.push_back(after.name);
  }
  return modified;
}

std::variant<pipeline::TableSchema, std::string> SchemaEvolver::describe_again(const pipeline::TableSchema& table,
                                                                               const pg::pgoutput::Relation& rel) {
  auto ref = std::find_if(p_.refs.begin(), p_.refs.end(), [&](const auto& r) { return r.oid == table.relation_oid; });
  if (ref == p_.refs.end()) return std::string("the table is not among the configured ones");
  pipeline::TableSchema fresh;
  try {
    fresh = pg::describe_table(p_.source, *ref, p_.targets->type_capabilities(), p_.describe_options);
  } catch (const Error& e) {
    // The table's config names a column it no longer has, or a new column has a type pg2ch cannot
    // map: this table's trouble, which stops it with the reason.
    if (e.kind() != ErrorKind::Config && e.kind() != ErrorKind::Schema) throw;
    return fmt::format("{} ({})", e.what(), e.hint());
  }
  if (const auto diff = relation_difference(fresh, rel); !diff.empty()) {
    return fmt::format("its columns changed again since ({})", diff);
  }
  return fresh;
}

void SchemaEvolver::replace(const pipeline::TableSchema& table, pipeline::TableSchema fresh,
                            const std::vector<std::string>& added, const std::vector<std::string>& modified,
                            Lsn position, const std::vector<std::string>& kept,
                            const std::vector<std::string>& dropped,
                            const std::vector<std::pair<std::string, std::string>>& renamed_in_target,
                            const std::vector<std::pair<std::string, std::string>>& renamed) {
  auto owned = std::find_if(p_.tables.begin(), p_.tables.end(), [&](const auto& t) { return t.get() == &table; });
  if (owned == p_.tables.end()) {
    throw Error(ErrorKind::Internal, fmt::format("{} is not among the configured tables", table.qualified_source()));
  }
  sink_.flush();  // rows of the old shape, with the old columns and types
  if (!renamed_in_target.empty()) p_.targets->rename_columns(fresh, renamed_in_target);
  if (!added.empty()) p_.targets->add_columns(fresh, added);
  if (!modified.empty()) p_.targets->modify_columns(fresh, modified);
  if (!kept.empty()) p_.targets->keep_dropped_columns(table, kept);  // described by the old schema
  **owned = std::move(fresh);  // in place: every holder of the schema's address sees the new columns
  const pipeline::TableSchema* one[] = {owned->get()};
  p_.targets->ensure(one);  // the view, with the new columns
  fetcher_.forget(table.relation_oid);
  states_.evolved(**owned, position, dropped, renamed);
}

}  // namespace pg2ch::capture::logical
