#include "capture/logical/offline_changes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <tuple>
#include <variant>

#include "capture/logical/ignored_changes.h"
#include "capture/logical/schema_evolution.h"
#include "capture/logical/type_widening.h"

namespace pg2ch::capture::logical {

namespace {

struct OfflineChange {
  std::vector<std::string> dropped;
  std::vector<std::pair<std::string, std::string>> renamed;
  std::vector<std::string> added;
  std::vector<std::string> widened;
  std::vector<std::string> nullable;
  bool needs_no_rewrite = false;  // a column added or a widening PostgreSQL does without a rewrite
};

// The first kind of `change` whose logical.on_* setting is "stop", as the reason it is not followed
// in place (a kind that did not happen is not asked about, as while running).
std::optional<std::string> setting_refusal(const config::Config& cfg, const OfflineChange& change) {
  const auto& l = cfg.logical;
  const std::tuple<bool, const char*, const std::string*> kinds[] = {
      {!change.added.empty(), "on_column_added", &l.on_column_added},
      {!change.widened.empty(), "on_type_widened", &l.on_type_widened},
      {!change.nullable.empty(), "on_not_null_dropped", &l.on_not_null_dropped},
      {!change.dropped.empty(), "on_column_dropped", &l.on_column_dropped},
      {!change.renamed.empty(), "on_column_renamed", &l.on_column_renamed}};
  for (const auto& [happened, name, value] : kinds) {
    if (!happened || *value != "stop") continue;
    return fmt::format("logical.{} is \"{}\"", name, *value);
  }
  return std::nullopt;
}

// The change from `was` to `now`, or why it is not followed in place.
std::variant<OfflineChange, std::string> classify(const table_sync::RecordedColumns& was,
                                                  const pipeline::TableSchema& now, const table_sync::TableState& s,
                                                  bool can_rename) {
  OfflineChange change;
  for (const auto& c : now.source_columns) {
    const auto old = std::find_if(was.columns.begin(), was.columns.end(),
                                  [&](const auto& o) { return o.attnum == c.attnum; });
    if (old == was.columns.end()) {
      if (c.is_key) return fmt::format("key column {} was added", c.name);
      if (name_taken_before(s, c.name)) return fmt::format("a column named {} was dropped or renamed earlier", c.name);
      change.added.push_back(c.name);
      change.needs_no_rewrite = true;
      continue;
    }
    if (old->is_key != c.is_key) return fmt::format("the key changed (column {})", c.name);
    if (old->name != c.name) {
      if (c.is_key) return fmt::format("key column {} was renamed to {}", old->name, c.name);
      if (!can_rename) return fmt::format("column {} was renamed, and RENAME COLUMN needs ClickHouse 20.4", old->name);
      if (name_taken_before(s, c.name)) return fmt::format("a column named {} was dropped or renamed earlier", c.name);
      change.renamed.emplace_back(old->name, c.name);
    }
    const DeclaredType from{old->type_oid, old->typmod}, to{c.declared_type_oid, c.declared_typmod};
    if (from != to) {
      if (c.is_key) return fmt::format("the type of key column {} changed", c.name);
      if (auto why_not = widening_refusal(from, to)) return fmt::format("column {}: {}", c.name, *why_not);
      if (!widening_rewrites(from, to)) change.needs_no_rewrite = true;
      change.widened.push_back(c.name);
    }
    if (!old->not_null && c.not_null) return fmt::format("column {} was made NOT NULL", c.name);
    if (old->not_null && !c.not_null) change.nullable.push_back(c.name);
  }
  for (const auto& o : was.columns) {
    if (std::any_of(now.source_columns.begin(), now.source_columns.end(),
                    [&](const auto& c) { return c.attnum == o.attnum; })) {
      continue;
    }
    if (o.is_key) return fmt::format("key column {} was dropped", o.name);
    change.dropped.push_back(o.name);
  }
  if (change.needs_no_rewrite && was.relfilenode != 0 && now.relfilenode != was.relfilenode) {
    return std::string(
        "the table was rewritten (a volatile default, a USING, a VACUUM FULL or TRUNCATE), so rows already there may "
        "hold values no stream carries");
  }
  return change;
}

// The missing values (name, PostgreSQL binary) of the added columns, or why one cannot be had.
std::variant<std::vector<std::pair<std::string, std::string>>, std::string> missing_values(
    SourceTables& p, const pipeline::TableSchema& table, const std::vector<std::string>& added) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& name : added) {
    pg::Result r = p.source.query(
        "SELECT atthasmissing, encode(array_send(attmissingval), 'hex'), attnotnull FROM pg_attribute "
        "WHERE attrelid = $1::oid AND attname = $2 AND NOT attisdropped",
        {std::to_string(table.relation_oid), name});
    if (r.rows() != 1) return fmt::format("column {} is gone again", name);
    if (r.boolean(0, 0)) {
      auto value = missing_value(r.text(0, 1));
      if (!value) return fmt::format("the default value PostgreSQL recorded for column {} could not be read", name);
      out.emplace_back(name, std::move(*value));
    } else if (r.boolean(0, 2)) {
      return fmt::format("column {} was added NOT NULL without a default", name);
    }
  }
  return out;
}

// What logical.on_* = "ignore" keeps of `change` (ignored_changes.h), as the running evolver
// records it: the target as it was made for `was` (and the changes ignored before, `s.ignored`).
std::vector<table_sync::IgnoredChange> ignored_of(const config::Config& cfg, const OfflineChange& change,
                                                  const table_sync::RecordedColumns& was,
                                                  const pipeline::TableSchema& now, const table_sync::TableState& s,
                                                  const clickhouse::ServerCapabilities& caps) {
  const auto& l = cfg.logical;
  const auto replicated = [&](const std::string& name) {
    return std::any_of(now.source_columns.begin(), now.source_columns.end(),
                       [&](const auto& c) { return c.name == name && c.target_index >= 0; });
  };
  std::vector<table_sync::IgnoredChange> out;
  if (l.on_column_added == "ignore") {
    for (const auto& name : change.added) out.push_back({"added", name, ""});
  }
  if (l.on_not_null_dropped == "ignore") {
    for (const auto& name : change.nullable) out.push_back({"not_null", name, ""});
  }
  if (l.on_column_renamed == "ignore") {
    for (const auto& [from, to] : change.renamed) {
      // The target column keeps the name it has: the old one, or the one an earlier ignored rename kept.
      const auto* kept = ignored_detail(s.ignored, "renamed", from);
      if (replicated(to)) out.push_back({"renamed", to, kept ? *kept : from});
    }
  }
  if (l.on_type_widened == "ignore") {
    for (const auto& name : change.widened) {
      const auto c = std::find_if(now.source_columns.begin(), now.source_columns.end(),
                                  [&](const auto& sc) { return sc.name == name; });
      if (c == now.source_columns.end() || c->target_index < 0) continue;
      const auto old = std::find_if(was.columns.begin(), was.columns.end(),
                                    [&](const auto& o) { return o.attnum == c->attnum; });
      if (old == was.columns.end()) continue;
      const auto* kept = ignored_detail(s.ignored, "widened", name);
      table_sync::IgnoredChange i{"widened", name, kept ? *kept : kept_type_detail(old->type_oid, old->typmod)};
      // Where the ClickHouse type stays the same nothing is kept (ignored_changes.h).
      const auto& type_now = now.target_columns[static_cast<std::size_t>(c->target_index)].mapping.clickhouse_type;
      if (kept_clickhouse_type(now, *c, i.detail, caps) != type_now) out.push_back(std::move(i));
    }
  }
  return out;
}

}  // namespace

void follow_offline_changes(const config::Config& cfg, SourceTables& p, table_sync::TableStates& states,
                            const std::function<void(const pipeline::TableSchema&, const std::string&)>& read_again,
                            const OfflineVeto& veto) {
  for (const auto& t : p.tables) {
    const auto& s = states.at(*t);
    if (s.phase != table_sync::TablePhase::Streaming || s.source_digest == table_sync::source_digest(*t)) continue;
    const auto was = table_sync::decode_source_columns(s.source_columns);
    if (!was) continue;
    const auto not_followed = [&](const std::string& why) {
      read_again(*t, "changed while pg2ch was stopped, not followed in place: " + why);
    };
    if (cfg.sink != "clickhouse") {
      not_followed("columns change in place only with sink = \"clickhouse\" yet");
      continue;
    }
    if (veto) {
      if (auto why = veto(*was, *t)) {
        not_followed(*why);
        continue;
      }
    }
    const auto& caps = p.targets->type_capabilities();
    // A rename the target ignores needs no RENAME COLUMN.
    const bool renames_ignored = cfg.logical.on_column_renamed == "ignore";
    auto classified = classify(*was, *t, s, caps.rename_column || renames_ignored);
    if (auto* why = std::get_if<std::string>(&classified)) {
      not_followed(*why);
      continue;
    }
    const auto& change = std::get<OfflineChange>(classified);
    if (auto why = setting_refusal(cfg, change)) {
      not_followed(*why);
      continue;
    }
    std::vector<table_sync::IgnoredChange> ignored;
    for (auto& i : ignored_of(cfg, change, *was, *t, s, caps)) {
      if (std::find(s.ignored.begin(), s.ignored.end(), i) == s.ignored.end()) ignored.push_back(std::move(i));
    }
    // An added column left out of the target needs no value for the rows already there.
    const bool added_ignored = cfg.logical.on_column_added == "ignore";
    auto missing = missing_values(p, *t, added_ignored ? std::vector<std::string>{} : change.added);
    if (auto* why = std::get_if<std::string>(&missing)) {
      not_followed(*why);
      continue;
    }
    // The table as its target was made: the catalog's with every ignored change kept (as
    // reapply_all puts them on it again: apply_ignored is idempotent). The same as recorded (a
    // NOT NULL dropped and ignored before, which the record keeps): nothing new.
    auto all_ignored = s.ignored;
    all_ignored.insert(all_ignored.end(), ignored.begin(), ignored.end());
    apply_ignored(*t, all_ignored, caps);
    if (ignored.empty() && table_sync::source_digest(*t) == s.source_digest) continue;
    // Recorded first: reapply_all alters the target from this record, now or after a crash.
    states.evolved(*t, current_source_position(p.source), change.dropped, change.renamed,
                   std::get<std::vector<std::pair<std::string, std::string>>>(missing), ignored);
    spdlog::info("{}: its columns changed while pg2ch was stopped; following the change in place{}",
                 t->qualified_source(),
                 ignored.empty() ? "" : " (its target keeps what logical.on_* = \"ignore\" leaves out)");
  }
}

}  // namespace pg2ch::capture::logical
