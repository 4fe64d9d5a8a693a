#pragma once
// The durable per-table states of one pipeline (table_state.h), over its StateStore. Keys:
// `table "<schema>"."<name>" <field>`, so any table name is a valid key.
//
// Errors: exceptions from the state store (start-up and state changes are rare and must be
// durable before the pipeline goes on).
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "capture/status_report.h"
#include "capture/table_sync/table_state.h"
#include "pipeline/table_schema.h"
#include "state/state_store.h"

namespace pg2ch::capture::table_sync {

// Stable digests (FNV-1a, hex) that tell whether what a state was recorded for has changed: the
// source's columns (names, declared types, NOT NULL, key), and the target's columns as the config
// maps them (name, include/exclude, ClickHouse types).
std::string source_digest(const pipeline::TableSchema& table);
std::string target_digest(const pipeline::TableSchema& table);

class TableStates {
 public:
  // Reads the recorded state of every table; a table never recorded is Init.
  TableStates(state::StateStore& store, std::span<const pipeline::TableSchema* const> tables);

  const TableState& at(const pipeline::TableSchema& table) const;
  TablePhase phase(const pipeline::TableSchema& table) const { return at(table).phase; }

  // Durable before return; records the table's current config and shape digests.
  void set(std::span<const pipeline::TableSchema* const> tables, TablePhase phase, Lsn copy_point = kInvalidLsn);
  void set(const pipeline::TableSchema& table, TablePhase phase, Lsn copy_point = kInvalidLsn);
  void stop(const pipeline::TableSchema& table, std::string reason, std::string fix);
  // A streaming table whose columns changed in place at `position`: its digests are recorded
  // again for its current schema (so a start does not copy it again), with the position.
  // `dropped`: columns it no longer has, added to its dropped_columns; `renamed` to its
  // renamed_columns.
  void evolved(const pipeline::TableSchema& table, Lsn position, const std::vector<std::string>& dropped = {},
               const std::vector<std::pair<std::string, std::string>>& renamed = {});

  // A stopped table whose config entry or source columns differ from when it stopped: the
  // operator changed something, so a new copy may succeed.
  bool changed_since_recorded(const pipeline::TableSchema& table) const;

  std::vector<const pipeline::TableSchema*> tables() const { return tables_; }
  std::vector<const pipeline::TableSchema*> in_phase(TablePhase phase) const;

  // Told about every change of phase (metrics).
  void on_change(std::function<void(const pipeline::TableSchema&, TablePhase)> f) { on_change_ = std::move(f); }

 private:
  TableState& mutable_at(const pipeline::TableSchema& table);
  void record(std::map<std::string, std::string>& updates, const pipeline::TableSchema& table, const TableState& s);

  state::StateStore& store_;
  std::vector<const pipeline::TableSchema*> tables_;
  std::map<const pipeline::TableSchema*, TableState> states_;
  std::function<void(const pipeline::TableSchema&, TablePhase)> on_change_;
};

// Puts each table's recorded state into the report's table rows (matched by source name); a
// stopped table needs attention, with its reason and fix.
void report_states(const TableStates& states, StatusReport& report);

// The state-store key of one field of one table's state.
std::string table_state_key(const pipeline::TableSchema& table, std::string_view field);

}  // namespace pg2ch::capture::table_sync
