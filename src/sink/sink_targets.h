#pragma once
// Where a sink keeps each replicated table, and the lifecycle of those places: created when
// missing, emptied before an initial copy, counted for `status`, dropped by `teardown`. Each
// sink owns its own (src/sink/<sink>/): a ClickHouse sink its tables and views, a Kafka sink
// nothing it must prepare (topics are the producer's), so a Kafka-only pipeline never needs a
// ClickHouse server.
//
// Errors are exceptions (pg2ch::Error): this is start-up and operator-command code.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/server_capabilities.h"
#include "config/config.h"
#include "pipeline/table_schema.h"

namespace pg2ch::sink {

class SinkTargets {
 public:
  virtual ~SinkTargets() = default;

  // The ClickHouse dialect the tables' columns are mapped for (types/map_column).
  virtual const pg2ch::clickhouse::ServerCapabilities& type_capabilities() = 0;

  struct Ensured {
    std::vector<const pipeline::TableSchema*> created;  // the tables that had no target before
    std::vector<std::string> changes;  // what was done, one line each ("created table shop.orders")
  };
  // Creates what is missing and checks what exists: a target that does not match what the sink
  // writes is an Error(Schema) naming the difference and the fix, thrown before anything
  // existing is changed. Never drops or re-creates what exists and matches, so any number of
  // pg2ch processes may call it at the same moment (a producer and its consumer starting
  // together, several drainers) without one undoing another's work.
  virtual Ensured ensure(std::span<const pipeline::TableSchema* const> tables) = 0;

  // Empties a table's target before an initial copy (no-op where the sink has nothing to empty).
  virtual void truncate(const pipeline::TableSchema& table) = 0;

  // Adds the named target columns of `table` (its schema already has them) to its target, once:
  // a column already there is left alone, so a run that repeats it after a crash changes nothing.
  // `defaults`: by column name, the DEFAULT (from default_expression()) by which the target column
  // yields, for the rows written before it existed, the value the rows already there hold for it
  // at the source (a fast default); a column not named there reads NULL in them. The view
  // follows with ensure(). No-op where the sink keeps no tables.
  virtual void add_columns(const pipeline::TableSchema& table, const std::vector<std::string>& columns,
                           const std::map<std::string, std::string>& defaults) = 0;
  // The DEFAULT expression that gives target column `column` of `table` the value `pg_binary`
  // (PostgreSQL binary) exactly (sink/clickhouse/column_default.h), checked on the server; nullopt
  // when the target cannot (then its rows need a copy). Empty where the sink keeps no tables.
  virtual std::optional<std::string> default_expression(const pipeline::TableSchema& table, const std::string& column,
                                                        std::string_view pg_binary) = 0;

  // Gives the named target columns of `table` (its schema already has them) their new types
  // (ClickHouse: ALTER TABLE ... MODIFY COLUMN), once: a column that has its type already is left
  // alone, so a run that repeats it after a crash changes nothing; then re-creates the view,
  // whose columns keep the types they were created with. The caller has checked that the
  // conversion keeps every value (clickhouse/column_conversion.h). No-op where the sink keeps no
  // tables.
  virtual void modify_columns(const pipeline::TableSchema& table, const std::vector<std::string>& columns) = 0;

  // Keeps the named target columns of `table` (its schema before they were dropped at the source)
  // for what they hold, but able to take rows without them: Nullable(T) DEFAULT NULL (an array:
  // DEFAULT []), so every row written from then on holds NULL there, and the target still passes
  // the start's check (a column pg2ch does not write needs a DEFAULT). Once: a column already so
  // is left alone. A column `table` no longer describes keeps the type the target has. No-op
  // where the sink keeps no tables.
  virtual void keep_dropped_columns(const pipeline::TableSchema& table, const std::vector<std::string>& columns) = 0;

  // The target's columns now, name → type as the server reports it; nullopt when it has no
  // target (or the sink keeps no tables).
  virtual std::optional<std::map<std::string, std::string>> column_types(const pipeline::TableSchema& table) = 0;
  // Whether the sink keeps a table per source table (ClickHouse), which may go missing and lose
  // the rows copied into it; a Kafka sink keeps none (its topics are never emptied).
  virtual bool keeps_tables() const { return true; }

  // Renames target columns of `table` (its schema has the new names) from the first name of each
  // pair to the second (ClickHouse: ALTER TABLE ... RENAME COLUMN, 20.4 and later), once: a column
  // that has its new name already is left alone. The view follows with ensure(). No-op where the
  // sink keeps no tables.
  virtual void rename_columns(const pipeline::TableSchema& table,
                              const std::vector<std::pair<std::string, std::string>>& columns) = 0;

  // Removes a table's target (teardown --drop-target).
  virtual void drop(const pipeline::TableSchema& table) = 0;

  struct Count {
    bool missing = false;             // the target does not exist
    std::optional<std::int64_t> rows; // its current rows; empty for a sink that holds none (Kafka)
  };
  // What a table's target holds now (its current state: deleted rows not counted), for status.
  virtual Count count(const pipeline::TableSchema& table) = 0;

  struct PartsNote {
    std::string text;
    bool attention = false;  // the server already slows or refuses INSERTs into it
  };
  // Targets near the destination's limit of parts (ClickHouse: clickhouse/part_pressure.h), for
  // status; empty where the sink keeps no parts.
  virtual std::vector<PartsNote> parts_notes(std::span<const pipeline::TableSchema* const> /*tables*/) { return {}; }

  // "ClickHouse default@127.0.0.1:8123 database shop", for status and setup lines.
  virtual std::string describe() const = 0;
};

// The targets of cfg.sink: ClickHouse for "clickhouse" and "both", none for "kafka".
std::unique_ptr<SinkTargets> make_sink_targets(const config::Config& cfg);

}  // namespace pg2ch::sink
