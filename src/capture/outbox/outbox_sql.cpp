#include "capture/outbox/outbox_sql.h"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>

#include "common/error.h"
#include "common/fnv1a.h"
#include "types/pg_type.h"

namespace pg2ch::capture::outbox {

namespace {

constexpr std::size_t kMaxTag = 40;  // leaves room for "pg2ch_" + "_trunc" and "_<oid>_trunc" in 63

const char* op_suffix(TriggerOp op) {
  switch (op) {
    case TriggerOp::Insert:
      return "ins";
    case TriggerOp::Update:
      return "upd";
    case TriggerOp::Delete:
      return "del";
    case TriggerOp::Truncate:
      return "trunc";
  }
  return "";
}

const char* op_event(TriggerOp op) {
  switch (op) {
    case TriggerOp::Insert:
      return "INSERT";
    case TriggerOp::Update:
      return "UPDATE";
    case TriggerOp::Delete:
      return "DELETE";
    case TriggerOp::Truncate:
      return "TRUNCATE";
  }
  return "";
}

std::string qualified(const std::string& schema, const std::string& name) {
  return quote_ident(schema) + "." + quote_ident(name);
}

std::string source_table(const pipeline::TableSchema& t) { return qualified(t.source_schema, t.source_name); }

std::vector<const pipeline::SourceColumn*> key_columns(const pipeline::TableSchema& t) {
  std::vector<const pipeline::SourceColumn*> keys;
  for (int ti : t.key_target_indexes) {
    const auto& tc = t.target_columns.at(static_cast<std::size_t>(ti));
    keys.push_back(&t.source_columns.at(static_cast<std::size_t>(tc.source_index)));
  }
  return keys;
}

// Trigger bodies run SECURITY DEFINER under the *writer's* search_path (pinning it with a SET
// clause costs a GUC save and restore on every call, the largest part of the trigger's own cost):
// every function, operator and type they name is therefore schema-qualified, so that nothing a
// writer puts on its path can run with the definer's rights. Relations are qualified too, and the
// transition tables are found before any schema.

// The whole row `alias` as a value: NEW / OLD, or `n.*` for a transition table's alias, which a
// bare `n` is not when the table has a column named n.
std::string whole_row(std::string_view alias) {
  return alias == "NEW" || alias == "OLD" ? std::string(alias) : std::string(alias) + ".*";
}

// How a trigger body reads a column of the row `alias`: by its name as a field (the fast path,
// which fails once the column was dropped, renamed or retyped), or out of the row's JSON (the
// fallback, which names no column: see guarded()).
enum class Access { Field, Json };

// The column's value: `<alias>."c"`, or `to_jsonb(<alias>) -> 'c'` (`->>` for its text). The JSON
// value is the one jsonb_build_object makes of the field, under the same settings.
std::string column_value(const pipeline::SourceColumn& c, std::string_view alias, Access access, bool as_text = false) {
  if (access == Access::Field) return fmt::format("{}.{}{}", alias, quote_ident(c.name), as_text ? "::pg_catalog.text" : "");
  return fmt::format("(pg_catalog.to_jsonb({}) OPERATOR(pg_catalog.{}) {}::pg_catalog.text)", whole_row(alias),
                     as_text ? "->>" : "->", quote_literal(c.name));
}

// jsonb_build_object('k1', <alias>."k1", ...) over the key columns, in key order.
std::string key_object(const pipeline::TableSchema& t, std::string_view alias, Access access = Access::Field) {
  std::string args;
  for (const auto* c : key_columns(t)) {
    if (!args.empty()) args += ", ";
    args += fmt::format("{}, {}", quote_literal(c->name), column_value(*c, alias, access));
  }
  return "pg_catalog.jsonb_build_object(" + args + ")";
}

// Whether a one-column key travels as its bare text: only when no session setting changes that
// text (dates follow DateStyle, floats extra_float_digits, timestamptz TimeZone, bpchar loses its
// padding in ::text); other keys travel as JSON.
bool bare_key(const pipeline::TableSchema& t, Payload payload) {
  if (payload != Payload::Key) return false;
  const auto keys = key_columns(t);
  if (keys.size() != 1 || keys[0]->type.is_array()) return false;
  switch (keys[0]->type.oid) {
    case types::oid::kInt2:
    case types::oid::kInt4:
    case types::oid::kInt8:
    case types::oid::kNumeric:
    case types::oid::kText:
    case types::oid::kVarchar:
    case types::oid::kUuid:
      return true;
    default:
      return false;
  }
}

std::string key_text_of(const pipeline::TableSchema& t, Payload payload, std::string_view alias, Access access) {
  if (bare_key(t, payload)) return column_value(*key_columns(t)[0], alias, access, /*as_text=*/true);
  return key_object(t, alias, access) + "::pg_catalog.text";
}

bool is_json(const pipeline::SourceColumn& c) {
  return !c.type.is_array() && (c.type.oid == types::oid::kJson || c.type.oid == types::oid::kJsonb);
}

// Columns whose value to_jsonb() would change: json text is normalised, a json/jsonb `null` would
// read back as SQL NULL, and a float's -0 becomes 0 (JSON numbers are numerics). Their text form
// goes into the event instead; json/jsonb are parsed back from it by fetch_rows_sql, floats by
// jsonb_populate_record itself (it reads a JSON string with the column type's input function).
bool stored_as_text(const pipeline::SourceColumn& c) {
  if (c.target_index < 0 || c.type.is_array()) return false;
  return is_json(c) || c.type.oid == types::oid::kFloat4 || c.type.oid == types::oid::kFloat8;
}

// The row as an object, the stored_as_text columns as their text, and under the key "" (no column
// has an empty name) the row_mark of `t`. Two forms:
//  * to_jsonb() of the whole row minus the excluded columns (they may be secrets and must not be
//    copied into the events table; excluded_fields makes a rename of one take the fallback);
//  * for a table whose config has an include list, every replicated column named as a field: a
//    column added since the function was generated is left out by the config, so it must not be
//    copied either, and to_jsonb() cannot leave out a column it has no name for. Naming costs a
//    type lookup per column and call (about 4k instructions per row more for 3 columns:
//    bench/results/outbox-row-mark.md), so only these tables pay it.
std::string row_object(const pipeline::TableSchema& t, std::string_view alias) {
  const std::string mark = fmt::format("'', {}", quote_literal(row_mark(t)));
  std::vector<std::string> pairs;
  std::string excluded;
  for (const auto& c : t.source_columns) {
    if (c.target_index < 0) {
      excluded += (excluded.empty() ? "" : ", ") + quote_literal(c.name);
    } else if (t.include_listed || stored_as_text(c)) {
      pairs.push_back(fmt::format("{}, {}.{}{}", quote_literal(c.name), alias, quote_ident(c.name),
                                  stored_as_text(c) ? "::pg_catalog.text" : ""));
    }
  }
  std::string out;
  if (!t.include_listed) {
    out = fmt::format("pg_catalog.to_jsonb({})", whole_row(alias));
    if (!excluded.empty()) out = fmt::format("({} OPERATOR(pg_catalog.-) ARRAY[{}]::pg_catalog.text[])", out, excluded);
    // Without a column of its own to build, the mark is a constant: no call per row.
    if (pairs.empty()) {
      return fmt::format("({} OPERATOR(pg_catalog.||) {}::pg_catalog.jsonb)", out,
                         quote_literal(fmt::format("{{\"\": \"{}\"}}", row_mark(t))));
    }
  }
  pairs.insert(pairs.begin(), mark);
  // jsonb_build_object takes at most 100 arguments: 50 columns per call.
  constexpr std::size_t kPairsPerCall = 50;
  for (std::size_t i = 0; i < pairs.size(); i += kPairsPerCall) {
    std::string args;
    for (std::size_t j = i; j < std::min(pairs.size(), i + kPairsPerCall); ++j) args += (j > i ? ", " : "") + pairs[j];
    out += (out.empty() ? "" : " OPERATOR(pg_catalog.||) ") + std::string("pg_catalog.jsonb_build_object(") + args + ")";
  }
  return out.find(" OPERATOR(pg_catalog.||) ") == std::string::npos ? out : "(" + out + ")";
}

// Whether a column the event carries (the key; with the row payload every replicated column)
// has one of these types, or is an array of one.
bool has_type(const pipeline::TableSchema& t, Payload payload, std::initializer_list<std::uint32_t> oids) {
  for (const auto& c : t.source_columns) {
    if (c.target_index < 0 || (payload == Payload::Key && !c.is_key)) continue;
    for (auto oid : oids) {
      if (c.type.oid == oid || c.type.element_oid == oid) return true;
    }
  }
  return false;
}

// The row of `a` whose key has the same bytes as `b`'s: `=` finds it through the key's index,
// the record image comparison drops what only the type's equality calls equal ('a' and 'A' under a
// case-insensitive collation, 1.0 and 1.00, 0 and -0), which ClickHouse keeps apart, as
// key_moved does.
std::string key_match(const pipeline::TableSchema& t, std::string_view a, std::string_view b) {
  std::string cond, a_key, b_key;
  for (const auto* c : key_columns(t)) {
    const char* sep = cond.empty() ? "" : ", ";
    if (!cond.empty()) cond += " AND ";
    cond += fmt::format("{0}.{2} = {1}.{2}", a, b, quote_ident(c->name));
    a_key += sep + fmt::format("{}.{}", a, quote_ident(c->name));
    b_key += sep + fmt::format("{}.{}", b, quote_ident(c->name));
  }
  return fmt::format("{} AND ROW({})::pg_catalog.record OPERATOR(pg_catalog.*=) ROW({})::pg_catalog.record", cond,
                     a_key, b_key);
}

// The key of `alias` as a record, compared by its bytes (record image comparison, as REFRESH
// MATERIALIZED VIEW CONCURRENTLY uses) to find key moves. Not the type's `=`: under a
// case-insensitive collation 'a' -> 'A' is one key to PostgreSQL but a move to ClickHouse, and
// 1.0 -> 1.00 or 0 -> -0 may be too; not the events' JSON either, which a writer's
// extra_float_digits could round. A move found where ClickHouse sees the same key is harmless:
// the update's event comes later and wins. (The cast keeps the parser from splitting a
// comparison of two ROW()s into one per column.)
std::string key_image(const pipeline::TableSchema& t, std::string_view alias) {
  std::string key;
  for (const auto* c : key_columns(t)) key += (key.empty() ? "" : ", ") + fmt::format("{}.{}", alias, quote_ident(c->name));
  return fmt::format("ROW({})::pg_catalog.record", key);
}

constexpr const char* kEventLsn = "pg_catalog.pg_current_wal_insert_lsn()";

std::string relation_oid(const pipeline::TableSchema& t) { return fmt::format("{}::pg_catalog.oid", t.relation_oid); }

// One event per row of `alias`: `VALUES (...)` for a row trigger's NEW/OLD, `SELECT ... FROM
// <transition table> <alias>` for a statement trigger's.
std::string event_rows(const pipeline::TableSchema& t, char op, const std::string& pk, const std::string& row,
                       const std::string& from) {
  std::string values = fmt::format("{}, {}, '{}', {}", kEventLsn, relation_oid(t), op, pk);
  if (!row.empty()) values += ", " + row;
  return from.empty() ? "VALUES (" + values + ")" : "SELECT " + values + " FROM " + from;
}

std::string events_insert(const OutboxNames& n, Payload payload, const std::string& rows) {
  return fmt::format("INSERT INTO {} (lsn, rel, op, pk{})\n  {};", n.events_table(),
                     payload == Payload::Row ? ", \"row\"" : "", rows);
}

}  // namespace


std::string quote_literal(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string object_tag(std::string_view pipeline_name) {
  std::string tag;
  bool changed = false;
  for (char c : pipeline_name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (ok) {
      tag += c;
    } else if (c >= 'A' && c <= 'Z') {
      tag += static_cast<char>(c - 'A' + 'a');
      changed = true;
    } else {
      tag += '_';
      changed = true;
    }
  }
  if (!changed && !tag.empty() && tag.size() <= kMaxTag) return tag;
  std::uint32_t h = 2166136261u;  // FNV-1a: stable across builds and platforms
  for (char c : pipeline_name) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  tag.resize(std::min(tag.size(), kMaxTag - 9));
  return fmt::format("{}_{:08x}", tag, h);
}

std::string row_mark(const pipeline::TableSchema& t) {
  // Everything a function body and the drainer's reading of its rows depend on, per column.
  Fnv1a h;
  if (t.include_listed) h.add("listed");
  for (const auto& c : t.source_columns) {
    h.add(c.attnum).add(c.name).add(static_cast<std::int64_t>(c.declared_type_oid)).add(c.declared_typmod);
    h.add(static_cast<std::int64_t>(c.type.oid)).add(static_cast<std::int64_t>(c.type.element_oid));
    h.add(c.is_key ? "k" : "-").add(c.target_index >= 0 ? "r" : "x");
  }
  return h.hex();
}

std::string OutboxNames::events_table() const { return qualified(schema, events); }
std::string OutboxNames::truncates_table() const { return qualified(schema, truncates); }
std::string OutboxNames::progress_table() const { return qualified(schema, progress); }

std::string OutboxNames::function_name(std::uint32_t table_oid, TriggerOp op) const {
  return fmt::format("{}_{}_{}", tag, table_oid, op_suffix(op));
}

std::string OutboxNames::trigger_name(TriggerOp op) const { return fmt::format("pg2ch_{}_{}", tag, op_suffix(op)); }

std::string OutboxNames::writes_marker() const { return fmt::format("writes {}.{}", schema, events); }

OutboxNames outbox_names(const config::Config& cfg) {
  OutboxNames n;
  n.schema = cfg.outbox.schema;
  n.events = cfg.outbox.table;
  n.truncates = cfg.outbox.table + "_truncates";
  n.progress = cfg.outbox.table + "_progress";
  if (n.truncates.size() > 63) {
    throw Error(ErrorKind::Config, fmt::format("outbox.table = \"{}\" is too long", cfg.outbox.table),
                "use at most 53 characters (pg2ch adds \"_truncates\" and \"_progress\" for its other tables)");
  }
  n.tag = object_tag(cfg.name);
  n.pipeline = cfg.name;
  return n;
}

Payload payload_of(const config::OutboxConfig& cfg) { return cfg.payload == "row" ? Payload::Row : Payload::Key; }
TriggerLevel level_for(const pipeline::TableSchema& t, TriggerLevel configured) {
  return t.partitioned ? TriggerLevel::Row : configured;
}

TriggerLevel trigger_level_of(const config::OutboxConfig& cfg) {
  return cfg.triggers == "statement" ? TriggerLevel::Statement : TriggerLevel::Row;
}

std::string key_text(const pipeline::TableSchema& t, Payload payload, std::string_view alias) {
  return key_text_of(t, payload, alias, Access::Field);
}

std::string truncates_part_column_ddl(const OutboxNames& n) {
  return fmt::format("DO $pg2ch_migrate$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
                     "{0}::regclass AND attname = 'part' AND NOT attisdropped) THEN ALTER TABLE {1} ADD COLUMN part oid; "
                     "END IF; END $pg2ch_migrate$",
                     quote_literal(n.truncates_table()), n.truncates_table());
}

std::vector<std::string> queue_ddl(const OutboxNames& n, Payload payload) {
  std::vector<std::string> ddl = {
      fmt::format("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(n.schema)),
      // A heap only: no id, no index, no default to evaluate (see the header). The key payload's
      // table has no "row" column at all: even a NULL one costs every event its projection step.
      fmt::format("CREATE TABLE IF NOT EXISTS {} (\n"
                  "  lsn pg_lsn NOT NULL,\n"
                  "  rel oid NOT NULL,\n"
                  "  op \"char\" NOT NULL,\n"
                  "  pk text{})",
                  n.events_table(), payload == Payload::Row ? ",\n  \"row\" jsonb" : ""),
      // part: a partition's oid in a copy request (partition_copies.h), NULL in a TRUNCATE.
      fmt::format("CREATE TABLE IF NOT EXISTS {} (lsn pg_lsn NOT NULL, rel oid NOT NULL, part oid)", n.truncates_table()),
      fmt::format("CREATE TABLE IF NOT EXISTS {} (\n"
                  "  pipeline text PRIMARY KEY,\n"
                  "  last_lsn pg_lsn,\n"
                  "  events_drained bigint NOT NULL DEFAULT 0,\n"
                  "  updated_at timestamptz NOT NULL DEFAULT now())",
                  n.progress_table()),
      // Progress tables of the id-ordered layout. (A DO block rather than ALTER ... IF [NOT]
      // EXISTS, whose notice every fresh setup would print.)
      fmt::format("DO $pg2ch_migrate$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
                  "{0}::regclass AND attname = 'last_lsn' AND NOT attisdropped) THEN ALTER TABLE {1} ADD COLUMN "
                  "last_lsn pg_lsn; ALTER TABLE {1} DROP COLUMN IF EXISTS last_event_id; END IF; END $pg2ch_migrate$",
                  quote_literal(n.progress_table()), n.progress_table()),
      truncates_part_column_ddl(n),
  };
  // A queue set up for the key payload first.
  if (payload == Payload::Row) {
    ddl.push_back(fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS \"row\" jsonb", n.events_table()));
  }
  return ddl;
}

namespace {

// Why the bodies survive DDL on their table (issue 12). A body that names a column as a field
// (NEW."f", n."f") fails once that column is dropped or renamed ("record "new" has no field "f"",
// undefined_column), and a session that ran it before an ALTER ... TYPE of the column fails on its
// cached plan ("type of parameter ... does not match that when preparing the plan",
// datatype_mismatch) — failing the application's INSERT or UPDATE, until `pg2ch setup` or pg2ch
// following the change replaces the functions. So the values that need a column's name (the key,
// and with the row payload the float and json columns' exact text and the excluded columns, or
// under an include list every column: row_object) are computed in a block that catches exactly these two errors and then computes the event from
// expressions that name no column: the key out of to_jsonb(<row>) by its name as a string (the
// same JSON, or text, that the field gives), and no row at all. A row payload event of 'I' or 'U'
// without its row is read from the table as it is when drained (fetch_rows_sql), as the key
// payload reads every event: exact for the final state by the same argument (the key's newest
// change has its own event, read at least as new). What the block cannot see (a column added,
// or retyped in a session that plans the body afresh) the row's mark tells the drainer (row_mark
// in the header). A key column renamed or retyped stops the
// table anyway (ClickHouse cannot rename or retype a sorting-key column): its fallback key may
// be NULL, which no event of a streaming table is ever decoded with (column_watch.h).
//
// Why a block that catches, not a body naming no column: to_jsonb() / row_to_json() of the whole
// row cannot tell SQL NULL from a JSON null in a json or jsonb column and to_jsonb() turns a
// float's -0 into 0; NEW::text can, but parsing it per row, or building the body per row from
// pg_attribute by attnum with EXECUTE, costs many times the trigger itself. Entering the block
// costs a subtransaction start and release without an xid (it only computes values), measured at
// 0.2-0.4 µs per row on PostgreSQL 15 against 10-15 µs for the trigger. A statement trigger's
// block holds its INSERTs (the transition tables are read by a query), once per statement, so
// there the subtransaction gets an xid (docs/outbox.md says what that costs the source).
constexpr const char* kColumnChanged = "undefined_column OR datatype_mismatch";

// The excluded columns of `alias` named as fields (an empty string without any): unless the table
// has an include list, the event copies the row minus these by name, so a rename of one must take
// the block's fallback (no row) instead of copying it into the queue under its new name.
std::string excluded_fields(const pipeline::TableSchema& t, std::string_view alias) {
  if (t.include_listed) return "";
  std::string args;
  for (const auto& c : t.source_columns) {
    if (c.target_index < 0) args += (args.empty() ? "" : ", ") + fmt::format("{}.{}", alias, quote_ident(c.name));
  }
  return args.empty() ? "" : "pg_catalog.num_nulls(" + args + ")";
}

char op_code(TriggerOp op) { return op == TriggerOp::Insert ? 'I' : op == TriggerOp::Update ? 'U' : 'D'; }

// A row trigger: the values computed in the guarded block, then plain INSERTs of the event (and,
// for an UPDATE that moved the key, the old key's 'M' first).
std::string row_trigger_body(const OutboxNames& n, const pipeline::TableSchema& t, Payload payload, TriggerOp op) {
  const bool rows = payload == Payload::Row && op != TriggerOp::Delete;
  const std::string row = op == TriggerOp::Delete ? "OLD" : "NEW";
  std::string declare = "k pg_catalog.text;", fast, slow;
  if (rows) {
    declare += " r pg_catalog.jsonb;";
    if (const auto named = excluded_fields(t, row); !named.empty()) {
      declare += " x pg_catalog.int4;";
      fast += "x := " + named + ";\n        ";
    }
  }
  fast += fmt::format("k := {};", key_text_of(t, payload, row, Access::Field));
  slow += fmt::format("k := {};", key_text_of(t, payload, row, Access::Json));
  if (rows) {
    fast += fmt::format("\n        r := {};", row_object(t, row));
    slow += "\n        r := NULL;";
  }
  std::string moved;
  if (op == TriggerOp::Update) {
    declare += " m pg_catalog.text;";
    fast += fmt::format("\n        IF {} OPERATOR(pg_catalog.*<>) {} THEN m := {}; END IF;", key_image(t, "OLD"),
                        key_image(t, "NEW"), key_text_of(t, payload, "OLD", Access::Field));
    // Without the key's columns no move can be seen: an 'M' for every old key, which the drainer
    // skips for a key that exists now (and a key that does not is gone either way).
    slow += fmt::format("\n        m := {};", key_text_of(t, payload, "OLD", Access::Json));
    moved = fmt::format("IF m IS NOT NULL THEN\n      {}\n    END IF;\n    ",
                        events_insert(n, payload, event_rows(t, 'M', "m", rows ? "NULL" : "", "")));
  }
  return fmt::format(
      "DECLARE {}\n  BEGIN\n    BEGIN\n        {}\n    EXCEPTION WHEN {} THEN\n        {}\n    END;\n    {}{}\n  END;",
      declare, fast, kColumnChanged, slow, moved,
      events_insert(n, payload, event_rows(t, op_code(op), "k", rows ? "r" : (payload == Payload::Row ? "NULL" : ""), "")));
}

// A statement trigger: its INSERTs ... SELECT over the transition tables in the guarded block.
// An UPDATE's moved keys are the old transition table's keys that the new one has not (by their
// text, hashable for any key type, then by their bytes).
std::string statement_trigger_body(const OutboxNames& n, const pipeline::TableSchema& t, Payload payload, TriggerOp op) {
  const bool rows = payload == Payload::Row && op != TriggerOp::Delete;
  const std::string no_row = payload == Payload::Row ? "NULL" : "";
  const std::string alias = op == TriggerOp::Delete ? "o" : "n";
  const std::string from = op == TriggerOp::Delete ? "old_rows o" : "new_rows n";
  std::string where;
  if (rows) {
    if (const auto named = excluded_fields(t, alias); !named.empty()) {
      where = fmt::format(" WHERE {} OPERATOR(pg_catalog.>=) 0", named);
    }
  }
  std::string fast = events_insert(
      n, payload,
      event_rows(t, op_code(op), key_text_of(t, payload, alias, Access::Field), rows ? row_object(t, alias) : no_row,
                 from + where));
  std::string slow = events_insert(
      n, payload, event_rows(t, op_code(op), key_text_of(t, payload, alias, Access::Json), no_row, from));
  if (op == TriggerOp::Update) {
    fast += "\n    " + events_insert(n, payload,
                                     event_rows(t, 'M', key_text_of(t, payload, "o", Access::Field), no_row,
                                                fmt::format("old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE "
                                                            "{} OPERATOR(pg_catalog.=) {} AND {} OPERATOR(pg_catalog.*=) {})",
                                                            key_text_of(t, payload, "n", Access::Field),
                                                            key_text_of(t, payload, "o", Access::Field),
                                                            key_image(t, "n"), key_image(t, "o"))));
    slow += "\n    " + events_insert(n, payload,
                                     event_rows(t, 'M', key_text_of(t, payload, "o", Access::Json), no_row, "old_rows o"));
  }
  return fmt::format("BEGIN\n    {}\n  EXCEPTION WHEN {} THEN\n    {}\n  END;", fast, kColumnChanged, slow);
}

}  // namespace

std::string trigger_body(const OutboxNames& n, const pipeline::TableSchema& t, OutboxLayout layout, TriggerOp op) {
  layout.level = level_for(t, layout.level);
  if (op == TriggerOp::Truncate) {
    return fmt::format("INSERT INTO {} (lsn, rel) VALUES ({}, {});", n.truncates_table(), kEventLsn, relation_oid(t));
  }
  return layout.level == TriggerLevel::Row ? row_trigger_body(n, t, layout.payload, op)
                                           : statement_trigger_body(n, t, layout.payload, op);
}

std::vector<std::string> function_ddl(const OutboxNames& n, const pipeline::TableSchema& t, OutboxLayout layout) {
  layout.level = level_for(t, layout.level);
  std::vector<std::string> out;
  for (TriggerOp op : kTriggerOps) {
    const std::string body = trigger_body(n, t, layout, op);
    if (body.find("$pg2ch$") != std::string::npos) {
      throw Error(ErrorKind::Schema, fmt::format("{} has a name pg2ch cannot quote in a trigger", t.qualified_source()),
                  "rename the table or column containing \"$pg2ch$\"");
    }
    const std::string function = qualified(n.schema, n.function_name(t.relation_oid, op));
    out.push_back(fmt::format("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql{} AS $pg2ch${}$pg2ch$",
                              function, function_settings(t, layout.payload), function_source(body)));
    out.push_back(fmt::format("COMMENT ON FUNCTION {}() IS {}", function,
                              quote_literal(function_comment(n, t, layout, op))));
  }
  return out;
}

std::string function_comment(const OutboxNames& n, const pipeline::TableSchema& t, OutboxLayout layout,
                             TriggerOp op, const std::vector<std::string>& not_listed) {
  layout.level = level_for(t, layout.level);
  std::string key, excluded;
  for (const auto* c : key_columns(t)) key += (key.empty() ? "" : ",") + quote_ident(c->name);
  for (const auto& c : t.source_columns) {
    if (c.target_index < 0 && std::find(not_listed.begin(), not_listed.end(), c.name) == not_listed.end()) {
      excluded += (excluded.empty() ? "" : ",") + quote_ident(c.name);
    }
  }
  // The writes marker last: teardown finds this pipeline's functions by it.
  return fmt::format("pg2ch outbox trigger of pipeline {} for {} {} (payload {}, {} triggers, key {}, left out {}), {}",
                     n.pipeline, t.qualified_source(), op_event(op), layout.payload == Payload::Row ? "row" : "key",
                     layout.level == TriggerLevel::Row ? "row" : "statement", key,
                     excluded.empty() ? "none" : excluded, n.writes_marker());
}

std::vector<std::string> trigger_ddl(const OutboxNames& n, const pipeline::TableSchema& t, OutboxLayout layout) {
  layout.level = level_for(t, layout.level);
  const auto functions = function_ddl(n, t, layout);
  std::vector<std::string> out;
  std::size_t i = 0;
  for (TriggerOp op : kTriggerOps) {
    out.push_back(functions.at(i++));
    out.push_back(functions.at(i++));
    const std::string function = qualified(n.schema, n.function_name(t.relation_oid, op));
    // No `UPDATE OF <columns>` and no WHEN: a trigger definition that names a column makes
    // PostgreSQL refuse to retype or drop it.
    std::string level = " FOR EACH STATEMENT";
    if (op != TriggerOp::Truncate && layout.level == TriggerLevel::Row) {
      level = " FOR EACH ROW";
    } else if (op == TriggerOp::Insert) {
      level = " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT";
    } else if (op == TriggerOp::Update) {
      level = " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT";
    } else if (op == TriggerOp::Delete) {
      level = " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT";
    }
    out.push_back(fmt::format("CREATE OR REPLACE TRIGGER {} AFTER {} ON {}{} EXECUTE FUNCTION {}()",
                              quote_ident(n.trigger_name(op)), op_event(op), source_table(t), level, function));
  }
  return out;
}

std::string function_settings(const pipeline::TableSchema& t, Payload payload) {
  using namespace types::oid;
  // SECURITY DEFINER: the writing roles need no privilege on the events table, so installing the
  // outbox never breaks an application's writes. No SET search_path: the bodies qualify every
  // name instead (see key_object), which saves a GUC save/restore on every writing statement.
  std::string out = " SECURITY DEFINER";
  // The writer's session settings must not change what the event says: floats print rounded
  // when a client lowered extra_float_digits, and intervals in sql_standard style can be read
  // back differently. Only tables whose events carry such columns pay for the settings.
  if (has_type(t, payload, {kFloat4, kFloat8})) out += " SET extra_float_digits = 1";
  if (has_type(t, payload, {kInterval})) out += " SET intervalstyle = 'iso_8601'";
  // money prints per lc_monetary; the drainer reads it back under the same fixed locale.
  if (has_type(t, payload, {kMoney})) out += fmt::format(" SET lc_monetary = '{}'", kDrainerMonetaryLocale);
  return out;
}

std::string function_source(const std::string& body) { return "\nBEGIN\n  " + body + "\n  RETURN NULL;\nEND\n"; }

std::string claim_sql(const OutboxNames& n, bool wrap) {
  return fmt::format(
      "SELECT ctid, lsn, rel, op FROM {} WHERE ctid {} $2::pg_catalog.tid AND rel <> ALL ($3::pg_catalog.oid[]) "
      "LIMIT $1 FOR UPDATE SKIP LOCKED",
      n.events_table(), wrap ? "<" : ">=");
}

std::string fetch_rows_sql(const OutboxNames& n, const pipeline::TableSchema& t, Payload payload) {
  // o.own: the event's row was written by the functions generated for `t` (row_mark): it holds
  // every replicated column, each as those functions write it. Any other 'I' or 'U' (the
  // fallback's, which has no row, or one written by functions generated for other columns, or
  // before pg2ch marked its rows) is read from the table as it is now.
  const std::string reread = "(e.op IN ('I', 'U') AND NOT o.own)";
  // s: the row as it is now, joined for those events only; a key column keeps the event's value
  // when the row is gone (the event then deletes it).
  const auto reread_value = [](const pipeline::SourceColumn& c) {
    const std::string name = quote_ident(c.name);
    return c.is_key ? fmt::format(" THEN COALESCE(s.{0}, r.{0})", name) : fmt::format(" THEN s.{}", name);
  };
  std::string cols;
  for (const auto& c : t.source_columns) {
    cols += ", ";
    const std::string name = quote_ident(c.name);
    if (c.target_index < 0) {
      cols += "NULL";
    } else if (payload == Payload::Key && c.is_key) {
      cols += fmt::format("COALESCE(s.{0}, k.{0})", name);  // the source's own key value when the row exists
    } else if (payload == Payload::Row && is_json(c)) {
      // The trigger stored the text (see stored_as_text); deletes carry only the key in pk.
      cols += fmt::format("CASE WHEN {} WHEN o.own THEN (e.\"row\" OPERATOR(pg_catalog.->>) {})::{} ELSE r.{} END",
                          reread + reread_value(c), quote_literal(c.name),
                          c.type.oid == types::oid::kJson ? "json" : "jsonb", name);
    } else if (payload == Payload::Row) {
      cols += fmt::format("CASE WHEN {}{} ELSE r.{} END", reread, reread_value(c), name);
    } else {
      cols += "s." + name;
    }
  }
  // Only this table's events: another table's key must never be read as this table's row type.
  const std::string where =
      fmt::format("WHERE e.ctid = ANY($1::pg_catalog.tid[]) AND e.rel = {}", relation_oid(t));
  const auto* first_key = key_columns(t).at(0);
  if (payload == Payload::Row) {
    // r: the event's own row, else its key (pk): deletes and moves carry only the key, and so
    // does every event read again; populating from it sets the key columns and leaves the rest
    // NULL.
    return fmt::format(
        "SELECT e.ctid, (CASE WHEN {6} THEN CASE WHEN s.{7} IS NULL THEN 'd' ELSE 'w' END WHEN e.op = 'D' THEN 'd' "
        "WHEN e.op = 'M' THEN CASE WHEN EXISTS (SELECT 1 FROM {0} c WHERE {1}) THEN 's' ELSE 'd' END ELSE 'w' "
        "END)::\"char\"{2} FROM {3} e CROSS JOIN LATERAL (SELECT COALESCE((e.\"row\" OPERATOR(pg_catalog.->>) '') "
        "OPERATOR(pg_catalog.=) {5}, false)) o(own) CROSS JOIN LATERAL jsonb_populate_record(NULL::{0}, CASE WHEN "
        "o.own THEN e.\"row\" ELSE e.pk::pg_catalog.jsonb END) r LEFT JOIN {0} s ON {6} AND {8} {4}",
        source_table(t), key_match(t, "c", "r"), cols, n.events_table(), where, quote_literal(row_mark(t)), reread,
        quote_ident(first_key->name), key_match(t, "s", "r"));
  }
  // Typed (and collated) as the table's own key column, whichever way the trigger wrote it.
  const std::string pk_json = bare_key(t, payload)
                                  ? fmt::format("jsonb_build_object({}, e.pk)", quote_literal(first_key->name))
                                  : std::string("e.pk::jsonb");
  const std::string key_row = fmt::format("jsonb_populate_record(NULL::{}, {}) k", source_table(t), pk_json);
  return fmt::format(
      "SELECT e.ctid, (CASE WHEN s.{} IS NULL THEN 'd' ELSE 'w' END)::\"char\"{} FROM {} e CROSS JOIN LATERAL {} "
      "LEFT JOIN {} s ON {} {}",
      quote_ident(first_key->name), cols, n.events_table(), key_row, source_table(t), key_match(t, "s", "k"), where);
}

std::string pending_truncates_sql(const OutboxNames& n) {
  return fmt::format("SELECT lsn, rel FROM {}", n.truncates_table());
}

std::string lock_oldest_truncate_sql(const OutboxNames& n) {
  return fmt::format(
      "SELECT ctid, lsn, rel, part IS NOT NULL FROM {0} WHERE ctid = (SELECT ctid FROM {0} ORDER BY lsn LIMIT 1) FOR "
      "UPDATE SKIP LOCKED",
      n.truncates_table());
}

std::string lock_events_before_sql(const OutboxNames& n) {
  return fmt::format("SELECT ctid FROM {} WHERE rel = $1::pg_catalog.oid AND lsn < $2::pg_catalog.pg_lsn FOR UPDATE",
                     n.events_table());
}

std::string delete_claimed_sql(const OutboxNames& n) {
  return fmt::format("DELETE FROM {} WHERE ctid = ANY($1::pg_catalog.tid[])", n.events_table());
}

std::string delete_truncate_sql(const OutboxNames& n) {
  return fmt::format("DELETE FROM {} WHERE ctid = $1::pg_catalog.tid", n.truncates_table());
}

std::string record_progress_sql(const OutboxNames& n) {
  return fmt::format(
      "INSERT INTO {0} AS p (pipeline, last_lsn, events_drained, updated_at) VALUES ($1, $2::pg_lsn, $3::bigint, "
      "now()) ON CONFLICT (pipeline) DO UPDATE SET last_lsn = GREATEST(p.last_lsn, EXCLUDED.last_lsn), "
      "events_drained = p.events_drained + EXCLUDED.events_drained, updated_at = now()",
      n.progress_table());
}

}  // namespace pg2ch::capture::outbox
