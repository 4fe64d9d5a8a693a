#pragma once
// The outbox's objects at the source: the events queue, the progress table, and per captured
// table its trigger functions and statement triggers (names and SQL in outbox_sql.h).
#include <functional>
#include <string>
#include <vector>

#include "capture/outbox/outbox_sql.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::outbox {

// Creates (or replaces) everything, in one transaction so a failed setup leaves nothing half
// installed, and drops this pipeline's triggers on tables `tables` no longer lists. Idempotent.
// An events table of the id-ordered layout (pg2ch before the lsn-versioned queue) is converted,
// its queued events kept.
void install(pg::Connection& conn, const OutboxNames& names, const std::vector<const pipeline::TableSchema*>& tables,
             OutboxLayout layout);

// Installs the triggers of `tables` only (a table that joined while running, capture/shared/
// new_tables.h), in one transaction; the queue exists already and other tables' triggers stay.
void install_triggers(pg::Connection& conn, const OutboxNames& names,
                      const std::vector<const pipeline::TableSchema*>& tables, OutboxLayout layout);

// Replaces the trigger functions of `table` (its columns changed and the change is followed in
// place), in one transaction. Takes no lock on the table: the triggers, which name no column,
// stay as they are, and writers use the new bodies from their next call on.
void replace_functions(pg::Connection& conn, const OutboxNames& names, const pipeline::TableSchema& table,
                       OutboxLayout layout);

// Throws Error(Config) naming the first table whose triggers are missing or were generated for
// another payload / trigger level / key / left-out columns (function_comment): `run` must not
// drain events it would misread. Returns the tables whose functions were generated for this
// config but other columns (changed while pg2ch was not running): `run` replaces them once it
// followed the change, as a running pipeline does. `added_and_ignored`: the columns of a table
// that logical.on_column_added = "ignore" left out of its target (its state's), which functions
// installed before such a column was added do not list as left out: those are behind, not made
// for another config.
using AddedAndIgnored = std::function<std::vector<std::string>(const pipeline::TableSchema&)>;
std::vector<const pipeline::TableSchema*> verify_installed(pg::Connection& conn, const OutboxNames& names,
                                                          const std::vector<const pipeline::TableSchema*>& tables,
                                                          OutboxLayout layout,
                                                          const AddedAndIgnored& added_and_ignored = {});

struct RemoveResult {
  int functions = 0;           // trigger functions dropped (their triggers go with them)
  bool dropped_queue = false;  // events, truncates and progress tables dropped
};

// Drops this pipeline's trigger functions with their triggers (found by name, so tables that
// were dropped or left the config are cleaned too). The events and progress tables go as well
// unless another pipeline's triggers still write into them; the schema goes when empty.
RemoveResult remove(pg::Connection& conn, const OutboxNames& names);

}  // namespace pg2ch::capture::outbox
