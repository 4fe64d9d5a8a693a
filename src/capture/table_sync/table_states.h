#pragma once
// The durable per-table states of one pipeline (table_state.h), over its StateStore. Keys:
// `table "<schema>"."<name>" <field>`, so any table name is a valid key; a pipeline may put a
// prefix of its own before them (the Kafka consumer does: its tables are often a producing
// pipeline's tables too, and the two must not read each other's states).
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
#include "common/error.h"
#include "pipeline/pipeline_observer.h"
#include "pipeline/table_schema.h"
#include "state/state_store.h"

namespace pg2ch::capture::table_sync {

// Stable digests (FNV-1a, hex) that tell whether what a state was recorded for has changed: the
// source's columns (names, declared types, NOT NULL, key), and the target's columns as the config
// maps them (name, include/exclude, ClickHouse types).
std::string source_digest(const pipeline::TableSchema& table);
std::string target_digest(const pipeline::TableSchema& table);

// The state-store key of one field of one table's state (without a pipeline's prefix).
std::string table_state_key(const pipeline::TableSchema& table, std::string_view field);

class TableStates {
 public:
  // Reads the recorded state of every table; a table never recorded is Init.
  TableStates(state::StateStore& store, std::span<const pipeline::TableSchema* const> tables,
              std::string key_prefix = {});

  // A table that joined while the pipeline runs (a new table under `schema.*`): its recorded
  // state, Init when none.
  void add(const pipeline::TableSchema& table);
  // A table that left while the pipeline runs (dropped, its name taken by a new one): no longer
  // listed; its recorded state is left as it is (a new table of its name takes the keys over).
  void remove(const pipeline::TableSchema& table);
  // A table dropped at the source whose target went with it (logical.on_table_dropped = "drop",
  // capture/shared/dropped_table.h): no longer listed, its recorded state erased, observers told.
  void forget(const pipeline::TableSchema& table);

  const TableState& at(const pipeline::TableSchema& table) const;
  TablePhase phase(const pipeline::TableSchema& table) const { return at(table).phase; }

  // Durable before return; records the table's current config and shape digests.
  void set(std::span<const pipeline::TableSchema* const> tables, TablePhase phase, Lsn copy_point = kInvalidLsn);
  void set(const pipeline::TableSchema& table, TablePhase phase, Lsn copy_point = kInvalidLsn);
  // A table stopped while catching_up keeps the earlier of its skipped offsets per partition
  // (what it had re-read is not durable yet either) and its replay_until.
  void stop(const pipeline::TableSchema& table, std::string reason, std::string fix,
            const PartitionOffsets& skipped_from = {});
  // A stopped table skipped a message at `offset` of `tp` (kafka): recorded durably when it is
  // the first skipped there, so no offset past it is committed before the record is. Returns
  // whether it was recorded now.
  bool skipped(const pipeline::TableSchema& table, const std::pair<std::string, int>& tp, std::int64_t offset);
  // A stopped table whose config changed comes back, or a catching-up one goes on at a new start
  // (kafka): catching_up, its skipped_from kept, its replay_until the later of the recorded one
  // and `replay_until` per partition, digests recorded again.
  void resume(const pipeline::TableSchema& table, const PartitionOffsets& replay_until);
  // A streaming table whose columns changed in place at `position`: its digests are recorded
  // again for its current schema (so a start does not copy it again), with the position.
  // `dropped`: columns it no longer has, added to its dropped_columns; `renamed` to its
  // renamed_columns.
  // `missing` (name, value) to its missing_values, `ignored` to its ignored (each once). `shape`:
  // the schema the digests are taken of, when not yet `table`'s (recorded before the target is
  // altered: capture/logical/schema_evolution.h).
  void evolved(const pipeline::TableSchema& table, Lsn position, const std::vector<std::string>& dropped = {},
               const std::vector<std::pair<std::string, std::string>>& renamed = {},
               const std::vector<std::pair<std::string, std::string>>& missing = {},
               const std::vector<IgnoredChange>& ignored = {}, const pipeline::TableSchema* shape = nullptr);
  // Catching-up tables whose copy point is durable: streaming, keeping what their columns' changes
  // in place recorded meanwhile (evolved_at and the names and values with it).
  void caught_up(std::span<const pipeline::TableSchema* const> tables);

  // A stopped table whose config entry or source columns differ from when it stopped: the
  // operator changed something, so a new copy may succeed.
  bool changed_since_recorded(const pipeline::TableSchema& table) const;
  // Its target was made for other columns than the table maps to now (a digest was recorded and
  // differs): the target must be re-created, not only emptied.
  bool target_made_for_other_columns(const pipeline::TableSchema& table) const;

  std::vector<const pipeline::TableSchema*> tables() const { return tables_; }
  std::vector<const pipeline::TableSchema*> in_phase(TablePhase phase) const;

  // Told about every change of phase (metrics).
  void on_change(std::function<void(const pipeline::TableSchema&, TablePhase)> f) { on_change_ = std::move(f); }
  void on_forget(std::function<void(const pipeline::TableSchema&)> f) { on_forget_ = std::move(f); }

 private:
  TableState& mutable_at(const pipeline::TableSchema& table);
  TableState recorded(const pipeline::TableSchema& table) const;
  void record(std::map<std::string, std::string>& updates, const pipeline::TableSchema& table, const TableState& s);
  void replace(const pipeline::TableSchema& table, TableState s);
  std::string key(const pipeline::TableSchema& table, std::string_view field) const {
    return key_prefix_ + table_state_key(table, field);
  }

  state::StateStore& store_;
  std::string key_prefix_;
  std::vector<const pipeline::TableSchema*> tables_;
  std::map<const pipeline::TableSchema*, TableState> states_;
  std::function<void(const pipeline::TableSchema&, TablePhase)> on_change_;
  std::function<void(const pipeline::TableSchema&)> on_forget_;
};

// Puts each table's recorded state into the report's table rows (matched by source name); a
// stopped table needs attention, with its reason and fix.
void report_states(const TableStates& states, StatusReport& report);

// Whether `error`, thrown while one table's change was written, is that table's trouble (a value
// its target cannot hold, a column it cannot decode) rather than the pipeline's (a lost
// connection, a server error): the table stops, the others go on.
bool stops_only_its_table(const Error& error);

// The reason and fix a table stopped for a refused value records: the error (which names the
// column and value) with the row's key, and what to correct; `how_back` says how this mode brings
// the table back once it is (e.g. "restart pg2ch: it reads the table again from its checkpoint").
struct StopReason {
  std::string reason;
  std::string fix;
};
StopReason refused_value(const Error& error, const std::string& key, std::string_view how_back);

// The reason and fix a table stopped for records when ClickHouse refused a batch of its rows
// (pipeline::RefusalHandler: its target changed by hand, a column dropped or retyped); `how_back`
// says how this mode brings the table back once the target is mended. Such a stop is tried again
// at every start (stopped_by_refused_insert): the mended target takes the rows, an unmended one
// refuses them again and the table stops again.
StopReason refused_insert(const pipeline::TableSchema& table, const Error& error, std::string_view how_back);
bool stopped_by_refused_insert(const TableState& state);

// Tells `observer` (metrics) every table's phase now and each change from now on; returns
// `states`. A null observer: nothing to tell.
TableStates& observe_states(TableStates& states, pipeline::PipelineObserver* observer);

// Forgets every table's recorded state (teardown).
void forget_states(state::StateStore& store, std::span<const pipeline::TableSchema* const> tables);

// The key `pg2ch resync` sets for a table, beside marking it init: a running pipeline takes it as
// a request to copy the table again now (its own state writes may overwrite the phase, never
// this key), and a starting one copies such a table too. Erased once the table is copying.
std::string resync_request_key(const pipeline::TableSchema& table);
// `pg2ch resync`: marks `tables` init and sets their request keys.
void request_resync(state::StateStore& store, std::span<const pipeline::TableSchema* const> tables);

}  // namespace pg2ch::capture::table_sync
