#include "capture/shared/source_tables.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

#include "clickhouse/target_table.h"
#include "pipeline/clickhouse_endpoint.h"

namespace pg2ch::capture {

pg::Connection connect_source(const config::Config& cfg, bool replication) {
  return pg::Connection::connect(cfg.postgres.conninfo(replication),
                                 fmt::format("source PostgreSQL {}", cfg.postgres.describe()));
}

std::vector<const pipeline::TableSchema*> SourceTables::table_ptrs() const {
  std::vector<const pipeline::TableSchema*> v;
  for (const auto& t : tables) v.push_back(t.get());
  return v;
}

bool target_exists(clickhouse::HttpClient& ch, const std::string& database, const std::string& table) {
  const std::string r = ch.query(fmt::format("EXISTS TABLE {}.{}", clickhouse::quote_identifier(database),
                                             clickhouse::quote_identifier(table)));
  return !r.empty() && r[0] == '1';
}

SourceTables open_source_tables(const config::Config& cfg) {
  SourceTables p;
  p.source = connect_source(cfg);
  p.refs = pg::resolve_tables(p.source, cfg.tables);
  const auto endpoint = pipeline::clickhouse_endpoint(cfg);
  p.target = std::make_unique<clickhouse::HttpClient>(endpoint);
  // Server capabilities come through "default": the configured database may not exist before setup.
  auto bootstrap = endpoint;
  bootstrap.database = "default";
  const auto caps = clickhouse::HttpClient(bootstrap).capabilities();
  for (const auto& ref : p.refs) {
    p.tables.push_back(std::make_unique<pipeline::TableSchema>(pg::describe_table(p.source, ref, caps)));
  }
  return p;
}

void create_targets(const config::Config& cfg, SourceTables& p) {
  // The configured database may not exist yet; connect to "default" to create it.
  auto bootstrap = pipeline::clickhouse_endpoint(cfg);
  bootstrap.database = "default";
  clickhouse::HttpClient(bootstrap).execute(
      fmt::format("CREATE DATABASE IF NOT EXISTS {}", clickhouse::quote_identifier(cfg.clickhouse.database)));
  const auto& caps = p.target->capabilities();
  for (const auto& t : p.tables) {
    if (!target_exists(*p.target, cfg.clickhouse.database, t->target_name)) {
      p.created_target = true;
      spdlog::info("creating ClickHouse table {}.{} for {}", cfg.clickhouse.database, t->target_name,
                   t->qualified_source());
    }
    p.target->execute(clickhouse::create_table_statement(cfg.clickhouse.database, *t, caps));
    for (const auto& sql : clickhouse::create_view_statements(cfg.clickhouse.database, *t, caps)) p.target->execute(sql);
    for (const auto& c : t->target_columns) {
      if (!c.mapping.note.empty()) spdlog::info("{}.{}: {}", t->qualified_source(), c.name, c.mapping.note);
    }
  }
}

void ensure_targets(const config::Config& cfg, SourceTables& p) {
  const bool all_exist = std::all_of(p.tables.begin(), p.tables.end(), [&](const auto& t) {
    return target_exists(*p.target, cfg.clickhouse.database, t->target_name);
  });
  if (all_exist) return;
  spdlog::warn("a ClickHouse target table is missing: creating it (rows already delivered before are not restored)");
  create_targets(cfg, p);
}

bool print_table_counts(const config::Config& cfg, SourceTables& p) {
  bool healthy = true;
  std::cout << fmt::format("  {:<40} {:>14} {:>14}\n", "table", "postgresql", "clickhouse");
  for (const auto& t : p.tables) {
    const auto pg_rows = p.source
                             .query(fmt::format("SELECT count(*) FROM {}.{}", p.source.quote_identifier(t->source_schema),
                                                p.source.quote_identifier(t->source_name)))
                             .text(0, 0);
    std::string ch_rows = "missing";
    if (target_exists(*p.target, cfg.clickhouse.database, t->target_name)) {
      ch_rows = p.target->query(fmt::format("SELECT count() FROM {}.{} FINAL WHERE _deleted = 0",
                                            clickhouse::quote_identifier(cfg.clickhouse.database),
                                            clickhouse::quote_identifier(t->target_name)));
      while (!ch_rows.empty() && (ch_rows.back() == '\n' || ch_rows.back() == '\r')) ch_rows.pop_back();
    } else {
      healthy = false;
    }
    std::cout << fmt::format("  {:<40} {:>14} {:>14}\n", t->qualified_source(), pg_rows, ch_rows);
  }
  return healthy;
}

void drop_targets(const config::Config& cfg, SourceTables& p) {
  for (const auto& t : p.tables) {
    for (const std::string& name : {clickhouse::current_view_name(*t), t->target_name}) {
      p.target->execute(fmt::format("DROP TABLE IF EXISTS {}.{}", clickhouse::quote_identifier(cfg.clickhouse.database),
                                    clickhouse::quote_identifier(name)));
    }
    std::cout << fmt::format("dropped ClickHouse table {}.{}\n", cfg.clickhouse.database, t->target_name);
  }
}

}  // namespace pg2ch::capture
