#pragma once
// What every capture mode needs before reading anything: a connection to the source, the
// configured tables resolved and described, and (for setup/run) their ClickHouse targets.
// Errors are exceptions (pg2ch::Error) naming the table and the fix: this is start-up code.
#include <memory>
#include <string>
#include <vector>

#include "clickhouse/http_client.h"
#include "config/config.h"
#include "pg/catalog.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture {

pg::Connection connect_source(const config::Config& cfg, bool replication = false);

struct SourceTables {
  pg::Connection source;
  std::unique_ptr<clickhouse::HttpClient> target;
  std::vector<pg::TableRef> refs;
  std::vector<std::unique_ptr<pipeline::TableSchema>> tables;
  bool created_target = false;  // some target table did not exist before create_targets()

  std::vector<const pipeline::TableSchema*> table_ptrs() const;
};

// Connects to both servers, resolves cfg.tables and describes each table.
SourceTables open_source_tables(const config::Config& cfg);

// Creates the ClickHouse database, tables and `<table>__current` views that are missing.
void create_targets(const config::Config& cfg, SourceTables& p);

// What `run` does instead: create_targets() only when a target table is missing. Several
// processes (drainers, consumers, a producer and its consumer under systemd) start together, and
// re-creating the views (DROP + CREATE on old ClickHouse servers) in each of them races: one
// process's DROP under another's CREATE fails or waits on ClickHouse 18.16.
void ensure_targets(const config::Config& cfg, SourceTables& p);

bool target_exists(clickhouse::HttpClient& ch, const std::string& database, const std::string& table);

// The per-table "postgresql vs clickhouse row count" lines of `pg2ch status`. Returns false when a
// target table is missing.
bool print_table_counts(const config::Config& cfg, SourceTables& p);

// Drops the target tables and their views (teardown --drop-target).
void drop_targets(const config::Config& cfg, SourceTables& p);

}  // namespace pg2ch::capture
