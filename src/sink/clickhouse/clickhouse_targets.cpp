#include "sink/clickhouse/clickhouse_targets.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "clickhouse/cluster_check.h"
#include "clickhouse/part_pressure.h"
#include "clickhouse/target_check.h"
#include "clickhouse/target_table.h"
#include "pipeline/clickhouse_endpoint.h"
#include "sink/clickhouse/column_default.h"

namespace pg2ch::sink::clickhouse {

namespace ch = pg2ch::clickhouse;

namespace {

ch::Endpoint in_database(ch::Endpoint e, std::string database) {
  e.database = std::move(database);
  return e;
}

std::vector<std::string> expected_view_columns(const pipeline::TableSchema& table) {
  std::vector<std::string> names;
  for (const auto& c : table.target_columns) names.push_back(c.name);
  return names;
}

std::vector<std::string> column_names(const ch::TableShape& shape) {
  std::vector<std::string> names;
  for (const auto& c : shape.columns) names.push_back(c.name);
  return names;
}

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

ClickHouseTargets::ClickHouseTargets(const config::Config& cfg)
    : database_(cfg.clickhouse.database),
      layout_(pipeline::clickhouse_layout(cfg)),
      client_(pipeline::clickhouse_endpoint(cfg)),
      bootstrap_(in_database(pipeline::clickhouse_endpoint(cfg), "default")) {}

ch::HttpClient& ClickHouseTargets::server() {
  if (!database_exists_) {
    try {
      client_.capabilities();
      database_exists_ = true;
    } catch (const Error&) {
      // No such database yet (code 81), or the server is away: bootstrap_ answers, or says why.
    }
  }
  return database_exists_ ? client_ : bootstrap_;
}

const ch::ServerCapabilities& ClickHouseTargets::type_capabilities() { return server().capabilities(); }

std::string ClickHouseTargets::describe() const {
  std::string where = fmt::format("ClickHouse {} database {}", client_.endpoint().describe(), database_);
  if (layout_.clustered()) {
    where += fmt::format(" on cluster {}{}", layout_.cluster, layout_.distributed ? " (distributed)" : "");
  }
  return where;
}

bool ClickHouseTargets::exists(const std::string& name) {
  const std::string r = client_.query(
      fmt::format("EXISTS TABLE {}.{}", ch::quote_identifier(database_), ch::quote_identifier(name)));
  return !r.empty() && r[0] == '1';
}

ClickHouseTargets::Shapes ClickHouseTargets::read_shapes(std::span<const pipeline::TableSchema* const> tables) {
  std::vector<std::string> names;
  for (const auto* t : tables) {
    names.push_back(t->target_name);
    names.push_back(ch::current_view_name(*t));
    if (layout_.distributed) names.push_back(ch::distributed_table_name(*t));
  }
  return ch::read_table_shapes(client_, database_, names);
}

std::optional<std::string> ClickHouseTargets::ensure_view(const pipeline::TableSchema& table, const Shapes& shapes) {
  const std::string name = ch::current_view_name(table);
  const std::string shown = fmt::format("{}.{}", database_, name);
  const auto found = shapes.find(name);
  if (found == shapes.end()) {
    ddl(ch::create_view_if_missing_statement(database_, table, layout_));
    return "created view " + shown;
  }
  const ch::TableShape& view = found->second;
  if (view.engine != "View") {
    throw Error(ErrorKind::Schema,
                fmt::format("ClickHouse {} is a {} table, not pg2ch's view of {}.{}", shown, view.engine, database_,
                            table.target_name),
                fmt::format("pg2ch keeps the current state of {} in a view of that name: rename or drop {} (pg2ch "
                            "never drops it), then run `pg2ch setup` again",
                            table.qualified_source(), shown));
  }
  const auto want = expected_view_columns(table);
  const auto have = column_names(view);
  if (have == want) return std::nullopt;
  spdlog::info("re-creating ClickHouse view {} for the columns of {}", shown, table.qualified_source());
  try {
    for (const auto& sql : ch::create_view_statements(database_, table, client_.capabilities(), layout_)) ddl(sql);
  } catch (const Error&) {
    // Another process re-created it between our DROP and CREATE: fine if it made this one.
    const auto now = ch::read_table_shapes(client_, database_, {name});
    if (!now.contains(name) || column_names(now.at(name)) != want) throw;
  }
  return fmt::format("re-created view {} (it had the columns {})", shown, fmt::join(have, ", "));
}

std::optional<std::string> ClickHouseTargets::ensure_distributed(const pipeline::TableSchema& table,
                                                                 const Shapes& shapes) {
  const std::string name = ch::distributed_table_name(table);
  const std::string shown = fmt::format("{}.{}", database_, name);
  const auto found = shapes.find(name);
  if (found == shapes.end()) {
    ddl(ch::create_distributed_statement(database_, table, layout_));
    return "created Distributed table " + shown;
  }
  if (found->second.engine != "Distributed") {
    throw Error(ErrorKind::Schema,
                fmt::format("ClickHouse {} is a {} table, not pg2ch's Distributed table over {}.{}", shown,
                            found->second.engine, database_, table.target_name),
                fmt::format("with clickhouse.distributed pg2ch writes and reads {} through a Distributed table of "
                            "that name: rename or drop {} (pg2ch never drops it), then run `pg2ch setup` again",
                            table.qualified_source(), shown));
  }
  if (ch::distributed_table_matches(found->second, table, database_, layout_)) return std::nullopt;
  // It holds no rows (inserts are synchronous), so re-creating it loses nothing.
  spdlog::info("re-creating ClickHouse Distributed table {} for the columns and key of {}", shown,
               table.qualified_source());
  ddl(ch::drop_statement(database_, name, layout_));
  ddl(ch::create_distributed_statement(database_, table, layout_));
  return fmt::format("re-created Distributed table {} (its columns or engine differed: {})", shown,
                     found->second.engine_full);
}

SinkTargets::Ensured ClickHouseTargets::ensure(std::span<const pipeline::TableSchema* const> tables) {
  if (layout_.clustered()) {
    auto& any = server();
    ch::check_cluster_layout(layout_, ch::read_cluster_facts(any, layout_.cluster), any.endpoint().describe());
  }
  // On a cluster the other hosts may lack the database even when this one has it.
  if (layout_.clustered() || &server() == &bootstrap_) {
    ch::run_ddl(bootstrap_, layout_, ch::create_database_statement(database_, layout_));
    database_exists_ = false;  // asked again below, now that it exists
  }
  const auto& caps = client_.capabilities();
  if (const auto missing = ch::purge_settings_missing(client_, layout_); !missing.empty()) {
    throw Error(ErrorKind::Config,
                fmt::format("clickhouse.purge_deleted_after needs merges that purge deleted rows (ClickHouse 23.12 and "
                            "later); ClickHouse {} lacks the table setting(s) {}",
                            caps.version.text, fmt::join(missing, ", ")),
                "set clickhouse.purge_deleted_after = 0 (deleted rows stay, filtered by the view), or upgrade ClickHouse");
  }
  Ensured result;
  Shapes shapes = read_shapes(tables);
  for (const auto* t : tables) {
    if (shapes.contains(t->target_name)) continue;
    spdlog::info("creating ClickHouse table {}.{} for {}", database_, t->target_name, t->qualified_source());
    ddl(ch::create_table_statement(database_, *t, caps, layout_));
    result.created.push_back(t);
    result.changes.push_back(fmt::format("created table {}.{}{}", database_, t->target_name,
                                         layout_.clustered() ? " on cluster " + layout_.cluster : ""));
    for (const auto& c : t->target_columns) {
      if (!c.mapping.note.empty()) spdlog::info("{}.{}: {}", t->qualified_source(), c.name, c.mapping.note);
    }
  }
  // Checked after creating (another process may have created a table first), and all of them
  // before any view is touched: a view is never dropped over a table it cannot be made on.
  if (!result.created.empty()) shapes = read_shapes(tables);
  for (const auto* t : tables) {
    const auto found = shapes.find(t->target_name);
    if (found == shapes.end()) {
      throw Error(ErrorKind::Schema, fmt::format("ClickHouse table {}.{} vanished while pg2ch created it", database_,
                                                 t->target_name),
                  "check whether another tool drops it, then run `pg2ch setup` again");
    }
    ch::check_target_table(found->second, *t, database_, caps, layout_);
    if (const auto alter = ch::purge_settings_alter(database_, *t, layout_, found->second.engine_full); !alter.empty()) {
      ddl(alter);
      result.changes.push_back(fmt::format("set the settings that purge deleted rows on {}.{}", database_, t->target_name));
    }
  }
  // The Distributed tables before the views that read them (a view's SELECT must resolve).
  if (layout_.distributed) {
    for (const auto* t : tables) {
      if (auto change = ensure_distributed(*t, shapes)) result.changes.push_back(std::move(*change));
    }
  }
  for (const auto* t : tables) {
    if (auto change = ensure_view(*t, shapes)) result.changes.push_back(std::move(*change));
  }
  return result;
}

void ClickHouseTargets::truncate(const pipeline::TableSchema& table) {
  ddl(ch::truncate_statement(database_, table, layout_));
}

void ClickHouseTargets::drop(const pipeline::TableSchema& table) {
  std::vector<std::string> names{ch::current_view_name(table)};
  if (layout_.distributed) names.push_back(ch::distributed_table_name(table));
  names.push_back(table.target_name);
  for (const auto& name : names) ddl(ch::drop_statement(database_, name, layout_));
}

void ClickHouseTargets::add_columns(const pipeline::TableSchema& table, const std::vector<std::string>& columns,
                                    const std::map<std::string, std::string>& defaults) {
  // Asked first rather than ADD COLUMN IF NOT EXISTS, which 18.16 lacks.
  const auto shapes = ch::read_table_shapes(client_, database_, {table.target_name});
  const auto shape = shapes.find(table.target_name);
  for (const auto& name : columns) {
    if (shape != shapes.end() && std::any_of(shape->second.columns.begin(), shape->second.columns.end(),
                                             [&](const auto& c) { return c.name == name; })) {
      continue;
    }
    const auto it = std::find_if(table.target_columns.begin(), table.target_columns.end(),
                                 [&](const auto& c) { return c.name == name; });
    if (it == table.target_columns.end()) {
      throw Error(ErrorKind::Internal, fmt::format("{} has no target column {}", table.qualified_source(), name));
    }
    const auto expression = defaults.find(name);
    const std::string default_clause = expression == defaults.end() ? std::string() : " DEFAULT " + expression->second;
    ddl(fmt::format("ALTER TABLE {}.{}{} ADD COLUMN {} {}{}", ch::quote_identifier(database_),
                    ch::quote_identifier(table.target_name), ch::on_cluster(layout_), ch::quote_identifier(name),
                    it->mapping.clickhouse_type, default_clause));
    spdlog::info("added column {} {}{} to ClickHouse table {}.{}", name, it->mapping.clickhouse_type, default_clause,
                 database_, table.target_name);
  }
}

std::optional<std::map<std::string, std::string>> ClickHouseTargets::column_types(const pipeline::TableSchema& table) {
  const auto shapes = ch::read_table_shapes(client_, database_, {table.target_name});
  const auto shape = shapes.find(table.target_name);
  if (shape == shapes.end()) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& c : shape->second.columns) out.emplace(c.name, c.type);
  return out;
}

std::optional<std::string> ClickHouseTargets::default_expression(const pipeline::TableSchema& table,
                                                                 const std::string& column,
                                                                 std::string_view pg_binary) {
  const auto it = std::find_if(table.target_columns.begin(), table.target_columns.end(),
                               [&](const auto& c) { return c.name == column; });
  if (it == table.target_columns.end()) {
    throw Error(ErrorKind::Internal, fmt::format("{} has no target column {}", table.qualified_source(), column));
  }
  return clickhouse::default_expression(client_, database_, *it, pg_binary);
}

void ClickHouseTargets::modify_columns(const pipeline::TableSchema& table, const std::vector<std::string>& columns) {
  const auto shapes = ch::read_table_shapes(client_, database_, {table.target_name});
  const auto shape = shapes.find(table.target_name);
  if (shape == shapes.end()) {
    throw Error(ErrorKind::Schema, fmt::format("ClickHouse table {}.{} is gone", database_, table.target_name),
                "restart pg2ch: a table whose target is missing is copied again");
  }
  const auto compact = [](std::string t) {
    std::erase(t, ' ');
    return t;
  };
  for (const auto& name : columns) {
    const auto it = std::find_if(table.target_columns.begin(), table.target_columns.end(),
                                 [&](const auto& c) { return c.name == name; });
    if (it == table.target_columns.end()) {
      throw Error(ErrorKind::Internal, fmt::format("{} has no target column {}", table.qualified_source(), name));
    }
    const auto& have = shape->second.columns;
    const auto now = std::find_if(have.begin(), have.end(), [&](const auto& c) { return c.name == name; });
    if (now != have.end() && compact(now->type) == compact(it->mapping.clickhouse_type)) continue;  // done before
    // A column added with a fast default keeps it (column_default.h): parts written before it
    // existed compute it when read, and a MODIFY without it would leave them reading NULL or 0.
    const std::string default_clause = now != have.end() && now->default_kind == "DEFAULT"
                                           ? " DEFAULT " + now->default_expression
                                           : std::string();
    ddl(fmt::format("ALTER TABLE {}.{}{} MODIFY COLUMN {} {}{}", ch::quote_identifier(database_),
                    ch::quote_identifier(table.target_name), ch::on_cluster(layout_), ch::quote_identifier(name),
                    it->mapping.clickhouse_type, default_clause));
    spdlog::info("changed column {} of ClickHouse table {}.{} to {}", name, database_, table.target_name,
                 it->mapping.clickhouse_type);
  }
  // Re-created whether or not this run modified a column: a crash may have come between the two.
  for (const auto& sql : ch::create_view_statements(database_, table, client_.capabilities(), layout_)) ddl(sql);
}

void ClickHouseTargets::keep_dropped_columns(const pipeline::TableSchema& table,
                                             const std::vector<std::string>& columns) {
  const auto shapes = ch::read_table_shapes(client_, database_, {table.target_name});
  const auto shape = shapes.find(table.target_name);
  if (shape == shapes.end()) return;  // nothing to keep
  for (const auto& name : columns) {
    const auto it = std::find_if(table.target_columns.begin(), table.target_columns.end(),
                                 [&](const auto& c) { return c.name == name; });
    const auto& have = shape->second.columns;
    const auto now = std::find_if(have.begin(), have.end(), [&](const auto& c) { return c.name == name; });
    if (now == have.end()) continue;
    // Kept before (DEFAULT NULL or []); a column added with a fast default has another DEFAULT,
    // which rows written from now on must not take.
    if (now->default_kind == "DEFAULT" && (now->default_expression == "NULL" || now->default_expression == "[]")) {
      continue;
    }
    // Described by `table`, or else (altered again after a crash, schema_evolution.h) by its type there.
    const bool array = it != table.target_columns.end() ? it->mapping.null_as_default : now->type.starts_with("Array(");
    const std::string type = it != table.target_columns.end() ? it->mapping.clickhouse_type : now->type;
    const std::string kept = array || type.starts_with("Nullable(") ? type : "Nullable(" + type + ")";
    ddl(fmt::format("ALTER TABLE {}.{}{} MODIFY COLUMN {} {} DEFAULT {}", ch::quote_identifier(database_),
                    ch::quote_identifier(table.target_name), ch::on_cluster(layout_), ch::quote_identifier(name), kept,
                    array ? "[]" : "NULL"));
    spdlog::info("kept column {} of ClickHouse table {}.{} ({} DEFAULT): it was dropped at the source", name,
                 database_, table.target_name, kept);
  }
}

void ClickHouseTargets::rename_columns(const pipeline::TableSchema& table,
                                       const std::vector<std::pair<std::string, std::string>>& columns) {
  const auto shapes = ch::read_table_shapes(client_, database_, {table.target_name});
  const auto shape = shapes.find(table.target_name);
  if (shape == shapes.end()) {
    throw Error(ErrorKind::Schema, fmt::format("ClickHouse table {}.{} is gone", database_, table.target_name),
                "restart pg2ch: a table whose target is missing is copied again");
  }
  const auto& have = shape->second.columns;
  const auto has = [&](const std::string& name) {
    return std::any_of(have.begin(), have.end(), [&](const auto& c) { return c.name == name; });
  };
  for (const auto& [from, to] : columns) {
    if (has(to) && !has(from)) continue;  // done before
    if (!has(from) || has(to)) {
      throw Error(ErrorKind::Schema,
                  fmt::format("cannot rename column {} of ClickHouse table {}.{} to {}: {}", from, database_,
                              table.target_name, to, has(to) ? "both names exist" : "it does not exist"),
                  "restart pg2ch: the table is copied again with its new columns");
    }
    ddl(fmt::format("ALTER TABLE {}.{}{} RENAME COLUMN {} TO {}", ch::quote_identifier(database_),
                    ch::quote_identifier(table.target_name), ch::on_cluster(layout_), ch::quote_identifier(from),
                    ch::quote_identifier(to)));
    spdlog::info("renamed column {} of ClickHouse table {}.{} to {}", from, database_, table.target_name, to);
  }
}

SinkTargets::Count ClickHouseTargets::count(const pipeline::TableSchema& table) {
  // Through the Distributed table when there is one: the target on this host holds one shard.
  const std::string name = ch::read_table_name(layout_, table);
  if (!exists(name)) return {.missing = true, .rows = std::nullopt};
  const std::string n = trim_newlines(client_.query(fmt::format("SELECT count() FROM {}.{} FINAL WHERE _deleted = 0",
                                                                ch::quote_identifier(database_),
                                                                ch::quote_identifier(name))));
  return {.missing = false, .rows = std::stoll(n)};
}

std::vector<SinkTargets::PartsNote> ClickHouseTargets::parts_notes(std::span<const pipeline::TableSchema* const> tables) {
  const auto limits = pg2ch::clickhouse::read_part_limits(client_);
  const auto parts = pg2ch::clickhouse::active_parts(client_, database_);
  std::vector<PartsNote> notes;
  for (const auto* t : tables) {
    const auto it = parts.find(t->target_name);
    if (it == parts.end() || !pg2ch::clickhouse::pressed_interval(it->second, limits)) continue;
    PartsNote note;
    note.text = pg2ch::clickhouse::describe_parts(database_ + "." + t->target_name, it->second, limits) +
                ": pg2ch spaces out its INSERTs into it until merges catch up";
    note.attention = it->second >= limits.delay_at;
    notes.push_back(std::move(note));
  }
  return notes;
}

}  // namespace pg2ch::sink::clickhouse
