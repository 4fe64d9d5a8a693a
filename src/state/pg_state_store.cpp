#include "state/pg_state_store.h"

#include <fmt/format.h>

#include "common/error.h"

namespace pg2ch::state {

PgStateStore::PgStateStore(const config::Config& cfg)
    : PgStateStore(pg::Connection::connect(cfg.postgres.conninfo(),
                                           fmt::format("state store PostgreSQL {}", cfg.postgres.describe())),
                   cfg.outbox.schema, cfg.name) {}

PgStateStore::PgStateStore(pg::Connection conn, std::string schema, std::string pipeline)
    : conn_(std::move(conn)), schema_(std::move(schema)), pipeline_(std::move(pipeline)) {
  table_ = conn_.quote_identifier(schema_) + ".state";
  try {
    conn_.exec("SET application_name = 'pg2ch state'");
    ensure_table();
    load();
  } catch (const Error& e) {
    rethrow_with_context(e, fmt::format("while opening state table {}.state", schema_));
  }
}

void PgStateStore::ensure_table() {
  // IF NOT EXISTS first without CREATE privilege: a table made by an administrator is enough.
  const bool exists = conn_.query("SELECT to_regclass($1) IS NOT NULL", {table_}).boolean(0, 0);
  if (exists) return;
  pg::Result r = conn_.try_query(fmt::format(
      "CREATE SCHEMA IF NOT EXISTS {0}; "
      "CREATE TABLE IF NOT EXISTS {1} (pipeline text NOT NULL, key text NOT NULL, value text NOT NULL, "
      "PRIMARY KEY (pipeline, key))",
      conn_.quote_identifier(schema_), table_));
  if (r.ok()) return;
  if (r.sqlstate() == "42501") {
    throw Error(ErrorKind::Permission, fmt::format("cannot create state table {}.state: {}", schema_, r.error_message()),
                fmt::format("GRANT CREATE ON DATABASE to the pg2ch role, or create it: CREATE TABLE {}.state (pipeline "
                            "text, key text, value text, PRIMARY KEY (pipeline, key)) and grant SELECT, INSERT, UPDATE, "
                            "DELETE on it",
                            schema_));
  }
  throw pg::error_from_result(r, fmt::format("creating state table {}.state", schema_));
}

void PgStateStore::refresh() {
  const std::lock_guard guard(mutex_);
  load();
}

void PgStateStore::load() {
  pg::Result r = conn_.query(fmt::format("SELECT key, value FROM {} WHERE pipeline = $1", table_), {pipeline_});
  values_.clear();
  for (int i = 0; i < r.rows(); ++i) values_[r.text(i, 0)] = r.text(i, 1);
}

std::optional<std::string> PgStateStore::get(const std::string& key) const {
  const std::lock_guard guard(mutex_);
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

void PgStateStore::put(const std::map<std::string, std::string>& updates) {
  const std::lock_guard guard(mutex_);
  if (updates.empty()) return;
  const std::string upsert = fmt::format(
      "INSERT INTO {} (pipeline, key, value) VALUES ($1, $2, $3) "
      "ON CONFLICT (pipeline, key) DO UPDATE SET value = EXCLUDED.value",
      table_);
  try {
    conn_.exec("BEGIN");
    for (const auto& [k, v] : updates) conn_.query(upsert, {pipeline_, k, v});
    conn_.exec("COMMIT");
  } catch (const Error& e) {
    if (PQstatus(conn_.get()) == CONNECTION_OK) conn_.try_query("ROLLBACK");
    rethrow_with_context(e, fmt::format("while saving state in {}.state", schema_));
  }
  for (const auto& [k, v] : updates) values_[k] = v;
}

void PgStateStore::erase(const std::string& key) {
  const std::lock_guard guard(mutex_);
  conn_.query(fmt::format("DELETE FROM {} WHERE pipeline = $1 AND key = $2", table_), {pipeline_, key});
  values_.erase(key);
}

std::string PgStateStore::describe() const {
  return fmt::format("state table {}.state (pipeline {}) in the source database", schema_, pipeline_);
}

}  // namespace pg2ch::state
