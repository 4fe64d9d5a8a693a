#include "sink/clickhouse/clickhouse_targets.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "clickhouse/target_check.h"
#include "clickhouse/target_table.h"
#include "pipeline/clickhouse_endpoint.h"

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
      client_(pipeline::clickhouse_endpoint(cfg)),
      bootstrap_(in_database(pipeline::clickhouse_endpoint(cfg), "default")) {}

const ch::ServerCapabilities& ClickHouseTargets::type_capabilities() { return bootstrap_.capabilities(); }

std::string ClickHouseTargets::describe() const {
  return fmt::format("ClickHouse {} database {}", client_.endpoint().describe(), database_);
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
  }
  return ch::read_table_shapes(client_, database_, names);
}

std::optional<std::string> ClickHouseTargets::ensure_view(const pipeline::TableSchema& table, const Shapes& shapes) {
  const std::string name = ch::current_view_name(table);
  const std::string shown = fmt::format("{}.{}", database_, name);
  const auto found = shapes.find(name);
  if (found == shapes.end()) {
    client_.execute(ch::create_view_if_missing_statement(database_, table));
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
    for (const auto& sql : ch::create_view_statements(database_, table, client_.capabilities())) client_.execute(sql);
  } catch (const Error&) {
    // Another process re-created it between our DROP and CREATE: fine if it made this one.
    const auto now = ch::read_table_shapes(client_, database_, {name});
    if (!now.contains(name) || column_names(now.at(name)) != want) throw;
  }
  return fmt::format("re-created view {} (it had the columns {})", shown, fmt::join(have, ", "));
}

SinkTargets::Ensured ClickHouseTargets::ensure(std::span<const pipeline::TableSchema* const> tables) {
  bootstrap_.execute(fmt::format("CREATE DATABASE IF NOT EXISTS {}", ch::quote_identifier(database_)));
  const auto& caps = client_.capabilities();
  Ensured result;
  Shapes shapes = read_shapes(tables);
  for (const auto* t : tables) {
    if (shapes.contains(t->target_name)) continue;
    spdlog::info("creating ClickHouse table {}.{} for {}", database_, t->target_name, t->qualified_source());
    client_.execute(ch::create_table_statement(database_, *t, caps));
    result.created.push_back(t);
    result.changes.push_back(fmt::format("created table {}.{}", database_, t->target_name));
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
    ch::check_target_table(found->second, *t, database_, caps);
  }
  for (const auto* t : tables) {
    if (auto change = ensure_view(*t, shapes)) result.changes.push_back(std::move(*change));
  }
  return result;
}

void ClickHouseTargets::truncate(const pipeline::TableSchema& table) {
  client_.execute(ch::truncate_statement(database_, table));
}

void ClickHouseTargets::drop(const pipeline::TableSchema& table) {
  for (const std::string& name : {ch::current_view_name(table), table.target_name}) {
    client_.execute(fmt::format("DROP TABLE IF EXISTS {}.{}", ch::quote_identifier(database_),
                                ch::quote_identifier(name)));
  }
}

SinkTargets::Count ClickHouseTargets::count(const pipeline::TableSchema& table) {
  if (!exists(table.target_name)) return {.missing = true, .rows = std::nullopt};
  const std::string n = trim_newlines(client_.query(fmt::format("SELECT count() FROM {}.{} FINAL WHERE _deleted = 0",
                                                                ch::quote_identifier(database_),
                                                                ch::quote_identifier(table.target_name))));
  return {.missing = false, .rows = std::stoll(n)};
}

}  // namespace pg2ch::sink::clickhouse
