#pragma once
// Every SQL text the outbox mode runs, generated from the config and the table schemas. Pure
// functions (no connection) so the generated triggers and queries are unit-tested as text.
//
// Objects at the source, all in `outbox.schema`:
//   <events>            the queue: id (identity, the _version), schema_name, table_name,
//                       op 'I'|'U'|'D'|'T', pk jsonb, "row" jsonb (payload = row), txid, created_at
//   <events>_progress   one row per pipeline: last drained id, events drained, updated_at
//   <tag>_<oid>_<op>    per captured table and operation, a plpgsql trigger function
// and on each captured table the triggers pg2ch_<tag>_<op> that call them: statement triggers,
// except the key-move trigger (see TriggerOp::KeyMove).
// <tag> is the pipeline name made identifier-safe (see object_tag), so two pipelines can
// capture the same table into different events tables without touching each other's objects.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::outbox {

enum class Payload { Key, Row };
// KeyMove is the one row-level trigger: AFTER UPDATE of the key columns, WHEN the key changed,
// it queues a delete of the old key. The statement-level UPDATE trigger then only has to write
// the new rows: finding moved keys between two transition tables costs every single-row UPDATE
// about 10 µs, the row trigger costs statements that do not set a key column nothing.
enum class TriggerOp { Insert, Update, KeyMove, Delete, Truncate };
inline constexpr TriggerOp kTriggerOps[] = {TriggerOp::Insert, TriggerOp::Update, TriggerOp::KeyMove,
                                            TriggerOp::Delete, TriggerOp::Truncate};

// Which updates the KeyMove trigger looks at. PostgreSQL skips an `UPDATE OF <columns>` trigger
// unless the statement sets one of them, which is free for all other updates, but a BEFORE
// UPDATE row trigger of the table's own may change the key without the statement setting it:
// tables that have one get the trigger for every update (its WHEN still filters).
enum class KeyMoveScope { KeyColumnsSet, EveryUpdate };

// PostgreSQL quoting without a connection: identifiers double their '"', literals their '\''
// (standard_conforming_strings is on in every supported server).
std::string quote_ident(std::string_view ident);
std::string quote_literal(std::string_view value);

// The pipeline name as a lowercase identifier fragment of at most 40 characters. Names that are
// already [a-z0-9_] and short stay as they are; others get a hash suffix so that "a-b" and "a.b"
// stay distinct.
std::string object_tag(std::string_view pipeline_name);

struct OutboxNames {
  std::string schema;  // unquoted
  std::string events;
  std::string progress;
  std::string tag;
  std::string pipeline;  // cfg.name, stored in the progress table

  std::string events_table() const;  // quoted, schema-qualified
  std::string progress_table() const;
  std::string function_name(std::uint32_t table_oid, TriggerOp op) const;  // unquoted, in `schema`
  std::string trigger_name(TriggerOp op) const;                            // unquoted
  // Marker in COMMENT ON FUNCTION: teardown finds which events table a function writes to.
  std::string writes_marker() const;
};

OutboxNames outbox_names(const config::Config& cfg);
Payload payload_of(const config::OutboxConfig& cfg);

// Schema, events table, its truncate index and the progress table. Idempotent.
std::vector<std::string> queue_ddl(const OutboxNames& n);

// CREATE OR REPLACE FUNCTION + COMMENT + CREATE OR REPLACE TRIGGER for each operation of `t`.
std::vector<std::string> trigger_ddl(const OutboxNames& n, const pipeline::TableSchema& t, Payload payload,
                                     KeyMoveScope scope = KeyMoveScope::KeyColumnsSet);

// The trigger function body's one statement — exposed for tests.
std::string trigger_body(const OutboxNames& n, const pipeline::TableSchema& t, Payload payload, TriggerOp op);

// Claims up to $1 events: id, schema_name, table_name, op, in id order, skipping events another
// drainer holds.
std::string claim_sql(const OutboxNames& n);

// The full prosrc of a trigger function as CREATE FUNCTION stores it: `run` compares it with the
// installed one to notice a setup made for another payload, key or column list.
std::string function_source(const std::string& body);

// SECURITY DEFINER and the SET clauses of a table's trigger functions.
std::string function_settings(const pipeline::TableSchema& t, Payload payload);
// lc_monetary of the trigger functions and of the drainer's session: money text is read back
// under the locale it was printed in.
inline constexpr const char* kDrainerMonetaryLocale = "C";

// One query per table per batch: for the claimed ids in $1 (bigint[]) that are not truncates,
// returns `id, found, <every source column in source order>` in binary. `found` false means the
// row no longer exists (key payload) or the event is a delete (row payload); then only the key
// columns are set. Excluded columns come back NULL.
std::string fetch_rows_sql(const OutboxNames& n, const pipeline::TableSchema& t, Payload payload);

// True when a truncate event that precedes some of our claimed ids ($1 ids, $2 our max id) is
// held by another drainer: our events must wait until that truncate reached ClickHouse.
std::string foreign_truncate_before_sql(const OutboxNames& n);
// True when an event of the same table ($3 schema, $4 table) before our truncate ($1 ids, $2 our
// truncate's id) is held by another drainer: our truncate must wait until those reached ClickHouse.
std::string foreign_event_before_sql(const OutboxNames& n);

std::string delete_claimed_sql(const OutboxNames& n);   // $1 ids
std::string record_progress_sql(const OutboxNames& n);  // $1 pipeline, $2 last id, $3 count

}  // namespace pg2ch::capture::outbox
