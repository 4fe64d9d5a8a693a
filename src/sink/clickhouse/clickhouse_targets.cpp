#include "sink/clickhouse/clickhouse_targets.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

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

std::optional<std::vector<std::string>> ClickHouseTargets::view_columns(const pipeline::TableSchema& table) {
  // system.columns lists a view's columns in order on every supported version; no row: no view.
  const std::string body = client_.query(fmt::format(
      "SELECT name FROM system.columns WHERE database = {} AND table = {} FORMAT TSVRaw",
      ch::quote_string(database_), ch::quote_string(ch::current_view_name(table))));
  if (body.empty()) return std::nullopt;
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start < body.size()) {
    const auto end = body.find('\n', start);
    names.push_back(body.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return names;
}

void ClickHouseTargets::ensure_view(const pipeline::TableSchema& table) {
  const auto want = expected_view_columns(table);
  const auto have = view_columns(table);
  if (have == want) return;
  const auto& caps = client_.capabilities();
  const std::string view = fmt::format("{}.{}", ch::quote_identifier(database_),
                                       ch::quote_identifier(ch::current_view_name(table)));
  if (!have) {
    client_.execute(ch::create_view_if_missing_statement(database_, table));
    return;
  }
  spdlog::info("re-creating ClickHouse view {} for the columns of {}", view, table.qualified_source());
  try {
    for (const auto& sql : ch::create_view_statements(database_, table, caps)) client_.execute(sql);
  } catch (const Error&) {
    // Another process re-created it between our DROP and CREATE: fine if it made this one.
    if (view_columns(table) != want) throw;
  }
}

std::vector<const pipeline::TableSchema*> ClickHouseTargets::ensure(
    std::span<const pipeline::TableSchema* const> tables) {
  bootstrap_.execute(fmt::format("CREATE DATABASE IF NOT EXISTS {}", ch::quote_identifier(database_)));
  const auto& caps = client_.capabilities();
  std::vector<const pipeline::TableSchema*> created;
  for (const auto* t : tables) {
    if (!exists(t->target_name)) {
      spdlog::info("creating ClickHouse table {}.{} for {}", database_, t->target_name, t->qualified_source());
      client_.execute(ch::create_table_statement(database_, *t, caps));
      created.push_back(t);
      for (const auto& c : t->target_columns) {
        if (!c.mapping.note.empty()) spdlog::info("{}.{}: {}", t->qualified_source(), c.name, c.mapping.note);
      }
    }
    ensure_view(*t);
  }
  return created;
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
