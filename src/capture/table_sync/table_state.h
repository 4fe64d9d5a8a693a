#pragma once
// Every replicated table's own state, kept durably with the pipeline's state (state/StateStore)
// and shown by `status` and the metrics. In the spirit of PostgreSQL's tablesync.c
// (SUBREL_STATE_INIT → DATASYNC → SYNCDONE → READY) and supabase/etl's table sync:
//
//   init ──▶ copying ──▶ catching_up ──▶ streaming
//                ▲                           │
//                └──────── stopped ◀─────────┘  (reason, fix)
//
// * init: the table has no copy yet (new in the config, or its copy must be taken again).
// * copying: its rows are being copied from a snapshot; changes that arrive meanwhile are
//   applied too (logical: see capture/logical/table_gate.h for why that is exact).
// * catching_up: the copy is done; the target equals the source once the stream has made
//   everything up to the copy's snapshot point durable.
// * streaming: changes are applied as they come.
// * stopped: this table's trouble (a value ClickHouse cannot hold, a schema change that cannot
//   be applied exactly) stopped it, and only it: its changes are skipped while every other
//   table streams and the source position keeps advancing. It comes back by a new copy (init),
//   which is exact because the copy is a snapshot of the table taken after the stop and every
//   change after that snapshot is applied: nothing skipped is needed any more.
//
// mode = "kafka" has no copy: its tables go straight to streaming. A stopped table comes back
// by reading its skipped messages again (the topic still has them): it records, per topic
// partition, the first offset it skipped (skipped_from), and the next start whose config
// entry for it changed makes it catching_up, reads those partitions again from there and
// makes it streaming once the group's committed offsets are past where the stop left them
// (replay_until). See capture/kafka_consumer/table_offsets.h for why that is exact.
//
// What is durable at each step, and why a crash anywhere is safe:
// * a table is marked copying before its target is emptied; a crash during the copy leaves it
//   copying, and the next start empties the target and copies again;
// * it becomes streaming only after the copy finished and the source position that the copy
//   covers was made durable; a crash before that copies again (more work, never a gap);
// * it is marked stopped before the source position moves past the change that stopped it, so
//   a crash in between finds the change again and stops again;
// * the schema and config digests recorded with a stopped table let the next start see that the
//   operator fixed the cause (changed the config, or the table's columns) and copy it again.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/lsn.h"

namespace pg2ch::capture::table_sync {

enum class TablePhase { Init, Copying, CatchingUp, Streaming, Stopped };

std::string_view to_string(TablePhase phase);
std::optional<TablePhase> parse_phase(std::string_view text);

// Kafka offsets by (topic, partition).
using PartitionOffsets = std::map<std::pair<std::string, int>, std::int64_t>;
// As kept in the state store: "topic[partition]=offset", comma-separated (topic names are
// [A-Za-z0-9._-] only). parse_partition_offsets returns nullopt for anything else.
std::string format_partition_offsets(const PartitionOffsets& offsets);
std::optional<PartitionOffsets> parse_partition_offsets(std::string_view text);

// A change of a table's columns that logical.on_* = "ignore" left out of its target
// (capture/logical/ignored_changes.h says what each kind means).
struct IgnoredChange {
  std::string kind;    // "added", "renamed", "not_null", "widened"
  std::string column;  // the source column (its name now)
  std::string detail;  // renamed: the target column's name; widened: "<oid>:<typmod>" of the target's type
  bool operator==(const IgnoredChange&) const = default;
};

struct TableState {
  TablePhase phase = TablePhase::Init;
  std::string reason;         // stopped: what happened, one line (table, column, key, value)
  std::string fix;            // stopped: what the operator does about it
  std::string source_digest;  // its source columns when the state was set
  std::string target_digest;  // its target columns as the config mapped them then
  // Its source columns when source_digest was taken (table_sync/source_columns.h): what a start
  // compares the catalog with to follow a change made while pg2ch was stopped. Empty in states
  // recorded before pg2ch kept it.
  std::string source_columns;
  // copying/catching_up (logical): the source position the copy's snapshot covers; the table
  // streams once this position is durable.
  Lsn copy_point = kInvalidLsn;
  // streaming (logical): where its columns last changed in place (columns added, types widened,
  // NOT NULL or columns dropped, the target altered; capture/logical/schema_evolution.h): the
  // position of the first change of the new shape. Rows of an older shape before it, which a
  // restart reads again, are applied as they were at the source: added columns NULL, values of
  // older types widened (their Relation message names those types), dropped columns left out.
  Lsn evolved_at = kInvalidLsn;
  // stopped/catching_up (kafka): per partition, the first offset of this table's messages that
  // its target does not have (skipped, or discarded at the stop before they were durable);
  // reading comes back to it when the table resumes.
  PartitionOffsets skipped_from;
  // catching_up (kafka): the group's committed offsets when the table resumed; below them every
  // other table's messages were applied already, and the table streams once the group commits
  // past them again.
  PartitionOffsets replay_until;
  // streaming (logical): columns dropped at the source and followed in place since the table was
  // last copied. Their target columns are kept (NULL from then on); rows of an older shape read
  // again carry them, and those values are left out; a column of such a name is not added in
  // place again (its target column holds the dropped column's values).
  std::vector<std::string> dropped_columns;
  // streaming (logical): columns renamed at the source and followed in place since the table was
  // last copied, as (old name, new name) in the order they happened: rows of an older shape read
  // again name them by their old names. No name in here or in dropped_columns is taken again in
  // place, so each one means one column.
  std::vector<std::pair<std::string, std::string>> renamed_columns;
  // streaming (logical): columns added in place with a fast default since the table was last
  // copied, as (name, the value every row that existed then holds: pg_attribute.attmissingval,
  // PostgreSQL binary). Rows of an older shape read again, which lack the column, get that value
  // (its target column yields it for rows written before it existed: its DEFAULT).
  std::vector<std::pair<std::string, std::string>> missing_values;
  // streaming (logical): changes of its columns left out of its target since it was last copied
  // (logical.on_* = "ignore"); applied to its schema at every start, so the target keeps fitting.
  std::vector<IgnoredChange> ignored;
};

}  // namespace pg2ch::capture::table_sync
