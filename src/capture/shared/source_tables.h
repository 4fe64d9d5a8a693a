#pragma once
// What every capture mode needs before reading anything: a connection to the source, the
// configured tables resolved and described, and their sink's targets (sink/sink_targets.h).
// Errors are exceptions (pg2ch::Error) naming the table and the fix: this is start-up code.
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "capture/status_report.h"
#include "config/config.h"
#include "pg/catalog.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"
#include "sink/sink_targets.h"

namespace pg2ch::capture {

pg::Connection connect_source(const config::Config& cfg, bool replication = false);

struct SourceTables {
  pg::Connection source;
  std::unique_ptr<sink::SinkTargets> targets;
  std::vector<pg::TableRef> refs;
  std::vector<std::unique_ptr<pipeline::TableSchema>> tables;
  // What the last ensure_targets() did to the sink's targets, one line each (`setup` prints them).
  std::vector<std::string> target_changes;
  // Tables a `schema.*` entry matches that cannot be replicated, one line each with the reason.
  std::vector<std::string> left_out;
  // Entries that select nothing at the source (a table dropped or renamed there), only when opened
  // for `status` (MissingTables::Report).
  std::vector<pg::MissingTable> missing;
  // How the tables were described (a table described again must be described alike).
  pg::DescribeOptions describe_options;

  std::vector<const pipeline::TableSchema*> table_ptrs() const;
  // The tables an operator names (`resync`, `verify`: schema.table, quoted or as `status` prints
  // it), in the order named; Error(Config) for a name that is not a configured table.
  std::vector<const pipeline::TableSchema*> named(const std::vector<std::string>& names,
                                                  const config::Config& cfg) const;
};

// What a [[tables]] entry that selects nothing is: an Error (every command that reads or writes
// tables), or a row of its own in `status` (SourceTables::missing), which answers for the others.
enum class MissingTables { Refuse, Report };

// Connects to the source (and to ClickHouse only when the sink writes there), resolves
// cfg.tables and describes each table. A table a `schema.*` entry matches that cannot be
// replicated is left out (left_out); one named explicitly is an Error.
SourceTables open_source_tables(const config::Config& cfg, MissingTables missing = MissingTables::Refuse);

// Creates the sink's targets that are missing and checks those that exist (setup and run alike:
// nothing that exists is dropped or re-created, so processes starting together cannot undo each
// other's work; a target that does not match is an Error). Returns the tables that had no target
// before; what was changed goes to p.target_changes.
std::vector<const pipeline::TableSchema*> ensure_targets(SourceTables& p);

// What `setup` prints after its own lines: the tables' notes (columns left out and why), then
// the targets it created or re-created (or that nothing needed to change).
void print_setup_notes(const SourceTables& p, std::ostream& out);

// The report's header (pipeline, mode, sink, source and target) and one row per table with its
// row count in PostgreSQL and in the target; a missing target needs attention, and so does an
// entry that selects nothing (a row "stopped" with the reason, its target's rows still counted).
StatusReport status_report(const config::Config& cfg, SourceTables& p);

// Drops the target tables and their views (teardown --drop-target).
void drop_targets(SourceTables& p);

}  // namespace pg2ch::capture
