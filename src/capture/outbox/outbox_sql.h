#pragma once
// Every SQL text the outbox mode runs, generated from the config and the table schemas. Pure
// functions (no connection) so the generated triggers and queries are unit-tested as text.
//
// Objects at the source, all in `outbox.schema`:
//   <events>            the queue, a heap without index or sequence: lsn (the WAL insert position
//                       when the change was made, its _version), rel (the table's oid),
//                       op 'I'|'U'|'D'|'M' (key moved away), pk text, "row" jsonb (payload = row
//                       only)
//   <events>_truncates  TRUNCATEs (lsn, rel) and copy requests (lsn, rel, part: partition_copies.h):
//                       rare, kept apart so drainers find them at once
//   <events>_progress   one row per pipeline: last drained lsn, events drained, updated_at
//   <tag>_<oid>_<op>    per captured table and operation, a plpgsql trigger function
// and on each captured table the triggers pg2ch_<tag>_<op> that call them: per row or per
// statement (outbox.triggers), except the truncate trigger (always per statement).
//
// No DDL on a captured table may make the application's writes fail (issue 12). The triggers
// themselves name no column (no `UPDATE OF`, no `WHEN`: PostgreSQL refuses to retype or drop a
// column a trigger definition uses), and the functions' bodies, which name the key columns and
// with the row payload the float, json and excluded ones (every replicated one under an include
// list), compute those values in a block that falls back to
// expressions naming no column when a column was dropped, renamed or retyped since they were
// generated (see trigger_body in the .cpp; row_mark for the row payload's other changes).
//
// Why no id: an identity column and its index cost a writing statement more than the rest of
// the event (a sequence buffer lock and a btree insert, about 14k instructions of a ~37k event),
// and the drainer does not need an order: ClickHouse keeps the highest _version of a key, and
// pg_current_wal_insert_lsn() read in an AFTER trigger increases along each key's changes (a
// later change of the key waited for the earlier one's commit, whose WAL lies beyond it).
// <tag> is the pipeline name made identifier-safe (see object_tag), so two pipelines can
// capture the same table into different events tables without touching each other's objects.
#include "pg/quote_ident.h"
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::outbox {

enum class Payload { Key, Row };
enum class TriggerLevel { Row, Statement };
// Key moves: an UPDATE that changes a row's key leaves an old key no new row carries; it is
// queued as 'M' (moved away) by the UPDATE trigger itself. A row trigger compares OLD's and NEW's
// key; a statement trigger queues the old keys its old transition table has and its new one has
// not. An 'M' is not a plain delete: in a chain of moves in one statement (1 -> 2 while 2 -> 3)
// 2's 'U' may come before its 'M', so the drainer deletes an 'M' key only if the key is gone now.
// (A separate `AFTER UPDATE OF <key columns> ... WHEN (<keys differ>)` trigger used to do this;
// PostgreSQL then refused `ALTER TABLE ... ALTER COLUMN <key> TYPE` and `DROP COLUMN` of a key
// column: "cannot alter type of a column used in a trigger definition". setup drops it.)
enum class TriggerOp { Insert, Update, Delete, Truncate };
inline constexpr TriggerOp kTriggerOps[] = {TriggerOp::Insert, TriggerOp::Update, TriggerOp::Delete,
                                            TriggerOp::Truncate};

// PostgreSQL quoting without a connection: identifiers double their '"', literals their '\''
// (standard_conforming_strings is on in every supported server).
using pg::quote_ident;
std::string quote_literal(std::string_view value);

// The pipeline name as a lowercase identifier fragment of at most 40 characters. Names that are
// already [a-z0-9_] and short stay as they are; others get a hash suffix so that "a-b" and "a.b"
// stay distinct.
std::string object_tag(std::string_view pipeline_name);

struct OutboxNames {
  std::string schema;  // unquoted
  std::string events;
  std::string truncates;
  std::string progress;
  std::string tag;
  std::string pipeline;  // cfg.name, stored in the progress table

  std::string events_table() const;  // quoted, schema-qualified
  std::string truncates_table() const;
  std::string progress_table() const;
  std::string function_name(std::uint32_t table_oid, TriggerOp op) const;  // unquoted, in `schema`
  std::string trigger_name(TriggerOp op) const;                            // unquoted
  // Marker in COMMENT ON FUNCTION: teardown finds which events table a function writes to.
  std::string writes_marker() const;
};

OutboxNames outbox_names(const config::Config& cfg);
Payload payload_of(const config::OutboxConfig& cfg);
TriggerLevel trigger_level_of(const config::OutboxConfig& cfg);

// What a trigger writes and a drainer reads back, fixed per table and payload.
// The level of `t`'s triggers: a partitioned table's are row triggers whatever outbox.triggers
// says. PostgreSQL clones row triggers to every partition (those created or attached later too),
// so a statement naming a partition is seen, and a row an UPDATE moves to another partition fires
// a DELETE (old key) and an INSERT (new key) there (checked on 15: no UPDATE row trigger fires, so
// no key move is queued either). A statement trigger on the partitioned table fires only
// for statements naming it.
TriggerLevel level_for(const pipeline::TableSchema& t, TriggerLevel configured);

struct OutboxLayout {
  Payload payload = Payload::Key;
  TriggerLevel level = TriggerLevel::Row;
};

// Schema, events, truncates and progress tables. Idempotent; older layouts are migrated by
// install() (see outbox_objects.cpp), which needs the tables' schemas.
std::vector<std::string> queue_ddl(const OutboxNames& n, Payload payload);

// A truncates table from before copy requests (partition_copies.h) gets their `part` column; a
// no-op (no lock) when it has it. Part of queue_ddl; `run` applies it too.
std::string truncates_part_column_ddl(const OutboxNames& n);

// CREATE OR REPLACE FUNCTION + COMMENT + CREATE OR REPLACE TRIGGER for each operation of `t`.
std::vector<std::string> trigger_ddl(const OutboxNames& n, const pipeline::TableSchema& t, OutboxLayout layout);
// Only the CREATE OR REPLACE FUNCTION + COMMENT statements: what a change of the table's columns
// followed in place needs (the triggers name no column), and which takes no lock on the table.
std::vector<std::string> function_ddl(const OutboxNames& n, const pipeline::TableSchema& t, OutboxLayout layout);

// The COMMENT of `op`'s function: what the events depend on besides the table's column types —
// pipeline, payload, trigger level, key and left-out columns. verify_installed tells by it a
// function whose body is behind the table's columns (replaced at start) from one generated for
// another config (refused). `not_listed`: left-out columns not to name (verify_installed).
std::string function_comment(const OutboxNames& n, const pipeline::TableSchema& t, OutboxLayout layout,
                             TriggerOp op, const std::vector<std::string>& not_listed = {});

// The trigger function body's one statement — exposed for tests.
std::string trigger_body(const OutboxNames& n, const pipeline::TableSchema& t, OutboxLayout layout, TriggerOp op);

// The event's pk text for the row `alias` (NEW, OLD, a transition table or a record): the bare
// value of a one-column key whose text form no session setting changes (integers, numeric, text,
// varchar, uuid), else the key's jsonb_build_object as text. fetch_rows_sql reads it back.
std::string key_text(const pipeline::TableSchema& t, Payload payload, std::string_view alias);

// Claims up to $1 events at or after ctid $2 ("from") or before it ("wrap"), in heap order,
// skipping events another drainer holds: ctid, lsn, rel, op.
std::string claim_sql(const OutboxNames& n, bool wrap);  // $1 limit, $2 ctid cursor, $3 oid[] of stopped tables

// The full prosrc of a trigger function as CREATE FUNCTION stores it: `run` compares it with the
// installed one to notice a setup made for another payload, key or column list.
std::string function_source(const std::string& body);

// The row payload's mark of what its trigger functions were generated for: a hash of `t`'s
// columns (attnum, name, declared and resolved type, typmod, key, excluded; whether the config
// lists them in include), which each row the
// functions write carries under the key "" (PostgreSQL forbids an empty column name), and which
// fetch_rows_sql compares with the mark of the columns it reads the events with.
//
// Why (issue 12). Between an ALTER TABLE and pg2ch replacing the functions (when it follows the
// change: outbox_pipeline.cpp), the installed ones go on writing; a statement that began before
// the replacement even keeps them for all its rows. What they name that was dropped or renamed
// makes them take their fallback (no row). But to_jsonb() of the row writes a column added since
// as it would any column it knows nothing of (a float's -0 as 0, rounded under the writer's
// extra_float_digits, json normalised, a JSON null as SQL NULL, an interval in the writer's
// intervalstyle, money in its lc_monetary), and so does a session that plans them afresh after a
// column was retyped, reading the field with its new type. (With an include list, whose added
// columns the config leaves out, they name each column they copy instead: a column added is not
// copied at all, so a secret never enters the events table, and a row without it cannot say what
// the table holds there: row_object in the .cpp.) A row of another mark is therefore not read: the
// event is read from the table as it is when drained, as the fallback's are, which is exact for
// the final state (outbox_drainer.h: the key's newest change has its own event, read at least as
// new). So are the events queued from before the change (real -> double, timestamp -> timestamptz,
// a column added with a default that a later rewrite clears: none of them is read from its row),
// and those of functions installed by a pg2ch from before the mark (no "" key). Whether a row is
// read from the table depends only on the event and the table's columns now, never on when the
// functions were replaced: a crash anywhere, before or after the replacement or the drain's
// commit, reads the same events the same way.
// Measured (bench/results/outbox-row-mark.md, about 8k instructions per row): the mark is a
// constant the row is concatenated with, or one more pair in the jsonb_build_object of the float
// and json columns' text.
// Why a mark of the columns rather than a generation counter or a cut-off position: the mark
// needs no state (setup, every start and the follower compute it alike from the columns), and a
// position cannot tell the rows of a statement that began before the replacement. Its one blind
// spot: a column retyped and retyped back (the same mark again) while events the old functions
// wrote in between, with the intermediate type, are still queued.
std::string row_mark(const pipeline::TableSchema& t);

// SECURITY DEFINER and the SET clauses of a table's trigger functions.
std::string function_settings(const pipeline::TableSchema& t, Payload payload);
// lc_monetary of the trigger functions and of the drainer's session: money text is read back
// under the locale it was printed in.
inline constexpr const char* kDrainerMonetaryLocale = "C";

// What the drainer does with one fetched event.
enum class EventAction : char { Write = 'w', Delete = 'd', Skip = 's' };

// One query per table per batch: for the claimed ctids in $1 (tid[]) of this table, returns
// `ctid, action ("char", EventAction), <every source column in source order>` in binary. Key
// payload: Write when the row exists now (whatever the op), else Delete with the key columns set.
// Row payload: I/U Write the event's row when it carries `t`'s row_mark, else read the row from
// the table now (Write, or Delete when it is gone); D Delete, M Delete unless the key exists now
// (Skip). Excluded columns come back NULL.
std::string fetch_rows_sql(const OutboxNames& n, const pipeline::TableSchema& t, Payload payload);

// Truncates: every pending one (lsn, rel), and the oldest one locked for its handler (ctid, lsn,
// rel, whether it is a copy request of partition_copies.h; none when another drainer handles it),
// whose table's earlier events ($1 rel, $2 lsn) the handler then locks, waiting for drainers that
// hold some.
std::string pending_truncates_sql(const OutboxNames& n);
std::string lock_oldest_truncate_sql(const OutboxNames& n);
std::string lock_events_before_sql(const OutboxNames& n);

std::string delete_claimed_sql(const OutboxNames& n);   // $1 ctids (tid[])
std::string delete_truncate_sql(const OutboxNames& n);  // $1 ctid
std::string record_progress_sql(const OutboxNames& n);  // $1 pipeline, $2 last lsn, $3 count

}  // namespace pg2ch::capture::outbox
