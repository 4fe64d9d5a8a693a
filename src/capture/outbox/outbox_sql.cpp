#include "capture/outbox/outbox_sql.h"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>

#include "common/error.h"
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
    case TriggerOp::KeyMove:
      return "mov";
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
    case TriggerOp::KeyMove:
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

// jsonb_build_object('k1', <alias>."k1", ...) over the key columns, in key order.
std::string key_object(const pipeline::TableSchema& t, std::string_view alias) {
  std::string args;
  for (const auto* c : key_columns(t)) {
    if (!args.empty()) args += ", ";
    args += fmt::format("{}, {}.{}", quote_literal(c->name), alias, quote_ident(c->name));
  }
  return "pg_catalog.jsonb_build_object(" + args + ")";
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

// The whole row minus excluded columns (they may be secrets and must not be copied into the
// events table), with the stored_as_text columns overridden by their text.
std::string row_object(const pipeline::TableSchema& t, std::string_view alias) {
  std::string excluded;
  std::vector<std::string> as_text;
  for (const auto& c : t.source_columns) {
    if (stored_as_text(c))
      as_text.push_back(fmt::format("{}, {}.{}::pg_catalog.text", quote_literal(c.name), alias, quote_ident(c.name)));
    if (c.target_index >= 0) continue;
    if (!excluded.empty()) excluded += ", ";
    excluded += quote_literal(c.name);
  }
  std::string out = fmt::format("pg_catalog.to_jsonb({})", alias);
  if (!excluded.empty()) out = fmt::format("({} OPERATOR(pg_catalog.-) ARRAY[{}]::pg_catalog.text[])", out, excluded);
  // jsonb_build_object takes at most 100 arguments: 50 columns per call.
  constexpr std::size_t kPairsPerCall = 50;
  for (std::size_t i = 0; i < as_text.size(); i += kPairsPerCall) {
    std::string args;
    for (std::size_t j = i; j < std::min(as_text.size(), i + kPairsPerCall); ++j)
      args += (j > i ? ", " : "") + as_text[j];
    out += " OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(" + args + ")";
  }
  return as_text.empty() ? out : "(" + out + ")";
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

std::string key_match(const pipeline::TableSchema& t, std::string_view a, std::string_view b) {
  std::string cond;
  for (const auto* c : key_columns(t)) {
    if (!cond.empty()) cond += " AND ";
    cond += fmt::format("{0}.{2} = {1}.{2}", a, b, quote_ident(c->name));
  }
  return cond;
}

// The KeyMove trigger's WHEN: the key's bytes changed (record image comparison, as REFRESH
// MATERIALIZED VIEW CONCURRENTLY uses). Not the type's `=`: under a case-insensitive collation
// 'a' -> 'A' is one key to PostgreSQL but a move to ClickHouse, and 1.0 -> 1.00 or 0 -> -0 may
// be too; not the events' JSON either, which a writer's extra_float_digits could round. A move
// found where ClickHouse sees the same key is harmless: the update's event comes later and wins.
// Evaluated without calling the function.
std::string key_moved(const pipeline::TableSchema& t) {
  std::string old_key, new_key;
  for (const auto* c : key_columns(t)) {
    const char* sep = old_key.empty() ? "" : ", ";
    old_key += sep + fmt::format("OLD.{}", quote_ident(c->name));
    new_key += sep + fmt::format("NEW.{}", quote_ident(c->name));
  }
  // The casts keep the parser from splitting a comparison of two ROW()s into one per column.
  return fmt::format("ROW({})::pg_catalog.record OPERATOR(pg_catalog.*<>) ROW({})::pg_catalog.record", old_key,
                     new_key);
}

// One SELECT of event rows: `<schema>, <table>, <op>, <pk>, <row> <from>`.
std::string events_select(const pipeline::TableSchema& t, char op, const std::string& pk, const std::string& row,
                          const std::string& from) {
  return fmt::format("SELECT {}, {}, '{}', {}, {}{}", quote_literal(t.source_schema), quote_literal(t.source_name), op,
                     pk, row, from);
}

std::string events_insert(const OutboxNames& n, const std::string& select) {
  return fmt::format("INSERT INTO {} (schema_name, table_name, op, pk, \"row\")\n  {};", n.events_table(), select);
}

}  // namespace

std::string quote_ident(std::string_view ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

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

std::string OutboxNames::events_table() const { return qualified(schema, events); }
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
  n.progress = cfg.outbox.table + "_progress";
  if (n.progress.size() > 63) {
    throw Error(ErrorKind::Config, fmt::format("outbox.table = \"{}\" is too long", cfg.outbox.table),
                "use at most 54 characters (pg2ch adds \"_progress\" for the progress table)");
  }
  n.tag = object_tag(cfg.name);
  n.pipeline = cfg.name;
  return n;
}

Payload payload_of(const config::OutboxConfig& cfg) { return cfg.payload == "row" ? Payload::Row : Payload::Key; }

std::vector<std::string> queue_ddl(const OutboxNames& n) {
  return {
      fmt::format("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(n.schema)),
      fmt::format("CREATE TABLE IF NOT EXISTS {} (\n"
                  "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
                  "  schema_name text NOT NULL,\n"
                  "  table_name text NOT NULL,\n"
                  "  op char(1) NOT NULL,\n"
                  "  pk jsonb,\n"
                  "  \"row\" jsonb,\n"
                  "  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),\n"
                  "  created_at timestamptz NOT NULL DEFAULT now())",
                  n.events_table()),
      // Earlier versions kept a partial index of truncates; every event insert paid for opening
      // it. Drainers find truncates through the primary key (see foreign_truncate_before_sql).
      // (A DO block rather than DROP INDEX IF EXISTS, whose notice every fresh setup would print.)
      fmt::format("DO $pg2ch_migrate$ BEGIN IF to_regclass({0}) IS NOT NULL THEN DROP INDEX {1}; END IF; END "
                  "$pg2ch_migrate$",
                  quote_literal(qualified(n.schema, n.events + "_truncates")),
                  qualified(n.schema, n.events + "_truncates")),
      fmt::format("CREATE TABLE IF NOT EXISTS {} (\n"
                  "  pipeline text PRIMARY KEY,\n"
                  "  last_event_id bigint NOT NULL DEFAULT 0,\n"
                  "  events_drained bigint NOT NULL DEFAULT 0,\n"
                  "  updated_at timestamptz NOT NULL DEFAULT now())",
                  n.progress_table()),
  };
}

std::string trigger_body(const OutboxNames& n, const pipeline::TableSchema& t, Payload payload, TriggerOp op) {
  const bool rows = payload == Payload::Row;
  switch (op) {
    case TriggerOp::Insert:
      return events_insert(n, events_select(t, 'I', key_object(t, "n"), rows ? row_object(t, "n") : "NULL",
                                            " FROM new_rows n"));
    case TriggerOp::Update:
      return events_insert(n, events_select(t, 'U', key_object(t, "n"), rows ? row_object(t, "n") : "NULL",
                                            " FROM new_rows n"));
    case TriggerOp::KeyMove:
      // The old key of a row whose key changed (see key_moved): a delete. AFTER ROW events fire
      // before AFTER STATEMENT ones, so in a chain of moves (1 -> 2, 2 -> 3) the delete of 2
      // gets a lower id than the update that writes 2 again, and the update wins.
      return events_insert(n, fmt::format("VALUES ({}, {}, 'D', {}, NULL)", quote_literal(t.source_schema),
                                          quote_literal(t.source_name), key_object(t, "OLD")));
    case TriggerOp::Delete:
      return events_insert(n, events_select(t, 'D', key_object(t, "o"), "NULL", " FROM old_rows o"));
    case TriggerOp::Truncate:
      return fmt::format("INSERT INTO {} (schema_name, table_name, op) VALUES ({}, {}, 'T');", n.events_table(),
                         quote_literal(t.source_schema), quote_literal(t.source_name));
  }
  return {};
}

std::vector<std::string> trigger_ddl(const OutboxNames& n, const pipeline::TableSchema& t, Payload payload,
                                     KeyMoveScope scope) {
  std::vector<std::string> out;
  for (TriggerOp op : kTriggerOps) {
    const std::string body = trigger_body(n, t, payload, op);
    if (body.find("$pg2ch$") != std::string::npos) {
      throw Error(ErrorKind::Schema, fmt::format("{} has a name pg2ch cannot quote in a trigger", t.qualified_source()),
                  "rename the table or column containing \"$pg2ch$\"");
    }
    const std::string function = qualified(n.schema, n.function_name(t.relation_oid, op));
    out.push_back(fmt::format("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql{} AS $pg2ch${}$pg2ch$",
                              function, function_settings(t, payload), function_source(body)));
    out.push_back(fmt::format("COMMENT ON FUNCTION {}() IS {}", function,
                              quote_literal(fmt::format("pg2ch outbox trigger of pipeline {} for {} {}, {}", n.pipeline,
                                                        t.qualified_source(), op_event(op), n.writes_marker()))));
    if (op == TriggerOp::KeyMove) {
      std::string columns;
      if (scope == KeyMoveScope::KeyColumnsSet) {
        for (const auto* c : key_columns(t)) columns += (columns.empty() ? " OF " : ", ") + quote_ident(c->name);
      }
      out.push_back(fmt::format(
          "CREATE OR REPLACE TRIGGER {} AFTER UPDATE{} ON {} FOR EACH ROW WHEN ({}) EXECUTE FUNCTION {}()",
          quote_ident(n.trigger_name(op)), columns, source_table(t), key_moved(t), function));
      continue;
    }
    std::string referencing;
    if (op == TriggerOp::Insert || op == TriggerOp::Update) referencing = " REFERENCING NEW TABLE AS new_rows";
    if (op == TriggerOp::Delete) referencing = " REFERENCING OLD TABLE AS old_rows";
    out.push_back(fmt::format("CREATE OR REPLACE TRIGGER {} AFTER {} ON {}{} FOR EACH STATEMENT EXECUTE FUNCTION {}()",
                              quote_ident(n.trigger_name(op)), op_event(op), source_table(t), referencing, function));
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

std::string claim_sql(const OutboxNames& n) {
  return fmt::format("SELECT id, schema_name, table_name, op FROM {} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                     n.events_table());
}

std::string fetch_rows_sql(const OutboxNames& n, const pipeline::TableSchema& t, Payload payload) {
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
      cols += fmt::format("CASE WHEN e.\"row\" IS NULL THEN r.{} ELSE (e.\"row\" ->> {})::{} END", name,
                          quote_literal(c.name), c.type.oid == types::oid::kJson ? "json" : "jsonb");
    } else {
      cols += (payload == Payload::Key ? "s." : "r.") + name;
    }
  }
  // Only this table's events: another table's JSON must never be read as this table's row type.
  const std::string where =
      fmt::format("WHERE e.id = ANY($1::bigint[]) AND e.schema_name = {} AND e.table_name = {} AND e.op <> 'T'",
                  quote_literal(t.source_schema), quote_literal(t.source_name));
  if (payload == Payload::Row) {
    // Deletes carry only the key: populating from pk sets the key columns and leaves the rest NULL.
    return fmt::format(
        "SELECT e.id, e.op <> 'D'{} FROM {} e CROSS JOIN LATERAL jsonb_populate_record(NULL::{}, "
        "COALESCE(e.\"row\", e.pk)) r {}",
        cols, n.events_table(), source_table(t), where);
  }
  const auto* first_key = key_columns(t).at(0);
  return fmt::format(
      "SELECT e.id, e.op <> 'D' AND s.{} IS NOT NULL{} FROM {} e CROSS JOIN LATERAL jsonb_populate_record(NULL::{}, "
      "e.pk) k LEFT JOIN {} s ON {} {}",
      quote_ident(first_key->name), cols, n.events_table(), source_table(t), source_table(t), key_match(t, "s", "k"),
      where);
}

std::string foreign_truncate_before_sql(const OutboxNames& n) {
  return fmt::format("SELECT EXISTS (SELECT 1 FROM {} WHERE op = 'T' AND id < $2::bigint AND id <> ALL($1::bigint[]))",
                     n.events_table());
}

std::string foreign_event_before_sql(const OutboxNames& n) {
  return fmt::format(
      "SELECT EXISTS (SELECT 1 FROM {} WHERE id < $2::bigint AND id <> ALL($1::bigint[]) AND schema_name = $3 "
      "AND table_name = $4)",
      n.events_table());
}

std::string delete_claimed_sql(const OutboxNames& n) {
  return fmt::format("DELETE FROM {} WHERE id = ANY($1::bigint[])", n.events_table());
}

std::string record_progress_sql(const OutboxNames& n) {
  return fmt::format(
      "INSERT INTO {0} AS p (pipeline, last_event_id, events_drained, updated_at) VALUES ($1, $2::bigint, $3::bigint, "
      "now()) ON CONFLICT (pipeline) DO UPDATE SET last_event_id = GREATEST(p.last_event_id, EXCLUDED.last_event_id), "
      "events_drained = p.events_drained + EXCLUDED.events_drained, updated_at = now()",
      n.progress_table());
}

}  // namespace pg2ch::capture::outbox
