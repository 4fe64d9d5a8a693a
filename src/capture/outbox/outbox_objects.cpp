#include "capture/outbox/outbox_objects.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>
#include <utility>

#include "capture/outbox/partition_copies.h"
#include "capture/outbox/source_transaction.h"

namespace pg2ch::capture::outbox {

namespace {

// The installed source of this table's trigger function for `op`, if a trigger of ours calls it.
struct InstalledFunction {
  std::string source;
  std::string comment;
};

std::optional<InstalledFunction> installed_function(pg::Connection& conn, const OutboxNames& names,
                                                    const pipeline::TableSchema& t, TriggerOp op) {
  pg::Result r = conn.query(
      "SELECT p.prosrc, coalesce(obj_description(p.oid, 'pg_proc'), '') FROM pg_trigger tg "
      "JOIN pg_proc p ON p.oid = tg.tgfoid "
      "JOIN pg_namespace ns ON ns.oid = p.pronamespace "
      "WHERE tg.tgrelid = $1::oid AND tg.tgname = $2 AND ns.nspname = $3 AND p.proname = $4",
      {std::to_string(t.relation_oid), names.trigger_name(op), names.schema, names.function_name(t.relation_oid, op)});
  if (r.rows() == 0) return std::nullopt;
  return InstalledFunction{r.text(0, 0), r.text(0, 1)};
}

// This pipeline's trigger functions, found by name: (name, regprocedure text). `mov`: the key-move
// function of older pg2ch versions, which setup drops with its trigger (TriggerOp).
std::vector<std::pair<std::string, std::string>> our_functions(pg::Connection& conn, const OutboxNames& names) {
  // The tag is [a-z0-9_] (object_tag), so it is safe inside the pattern.
  pg::Result r = conn.query(
      "SELECT p.proname, p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace ns ON ns.oid = p.pronamespace "
      "WHERE ns.nspname = $1 AND p.proname ~ ('^' || $2 || '_[0-9]+_(ins|upd|mov|del|trunc|ptrunc)$')",
      {names.schema, names.tag});
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), r.text(i, 1));
  return out;
}

// The events table of pg2ch before the lsn-versioned queue: ordered by an identity id, tables by
// name, keys as jsonb, truncates inline (and, earlier still, a partial index of them). Its events
// move into the new queue with their id as version (what the old drainer would have written;
// every real WAL position is larger), keys re-encoded the way the new triggers write them.
void migrate_id_ordered_queue(pg::Connection& conn, const OutboxNames& names,
                              const std::vector<const pipeline::TableSchema*>& tables, Payload payload) {
  const bool old_layout =
      conn.query("SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'id' "
                 "AND NOT attisdropped)",
                 {names.events_table()})
          .boolean(0, 0);
  if (!old_layout) return;
  const std::string old = quote_ident(names.schema) + "." + quote_ident(names.events + "_v1");
  conn.exec("DROP INDEX IF EXISTS " + names.truncates_table());  // its name is the new truncates table's
  conn.exec(fmt::format("ALTER TABLE {} RENAME TO {}", names.events_table(), quote_ident(names.events + "_v1")));
  for (const auto& sql : queue_ddl(names, payload)) conn.exec(sql);
  const std::string lsn_of_id =
      "(pg_catalog.to_hex(o.id >> 32) || '/' || pg_catalog.to_hex(o.id & 4294967295))::pg_catalog.pg_lsn";
  std::int64_t moved = 0;
  for (const auto* t : tables) {
    const std::string of_table = fmt::format("o.schema_name = {} AND o.table_name = {}",
                                             quote_literal(t->source_schema), quote_literal(t->source_name));
    const bool rows = payload == Payload::Row;
    conn.exec(fmt::format("INSERT INTO {} (lsn, rel, op, pk{}) SELECT {}, {}, o.op::\"char\", {}{} "
                          "FROM {} o CROSS JOIN LATERAL jsonb_populate_record(NULL::{}.{}, o.pk) k WHERE {} AND "
                          "o.op <> 'T'",
                          names.events_table(), rows ? ", \"row\"" : "", lsn_of_id, t->relation_oid,
                          key_text(*t, payload, "k"), rows ? ", o.\"row\"" : "", old, quote_ident(t->source_schema),
                          quote_ident(t->source_name), of_table));
    conn.exec(fmt::format("INSERT INTO {} (lsn, rel) SELECT {}, {} FROM {} o WHERE {} AND o.op = 'T'",
                          names.truncates_table(), lsn_of_id, t->relation_oid, old, of_table));
    moved += conn.query(fmt::format("SELECT count(*) FROM {} o WHERE {}", old, of_table)).int64(0, 0);
  }
  const std::int64_t all = conn.query("SELECT count(*) FROM " + old).int64(0, 0);
  if (all > moved) {
    spdlog::warn("dropped {} events of tables this pipeline does not capture from the old outbox queue", all - moved);
  }
  conn.exec("DROP TABLE " + old);
  spdlog::info("converted the outbox queue {} to the lsn-versioned layout ({} events kept)", names.events_table(),
               moved);
}

}  // namespace

namespace {

void install_table_triggers(pg::Connection& conn, const OutboxNames& names, const pipeline::TableSchema& t,
                            OutboxLayout layout) {
  if (t.source_schema == names.schema &&
      (t.source_name == names.events || t.source_name == names.truncates || t.source_name == names.progress)) {
    // Its trigger would fire on its own inserts, recursively.
    throw Error(ErrorKind::Config, fmt::format("[[tables]] selects the outbox's own table {}", t.qualified_source()),
                "exclude it: select the application's tables by name or keep outbox.schema out of the patterns");
  }
  try {
    for (const auto& sql : trigger_ddl(names, t, layout)) conn.exec(sql);
  } catch (const Error& e) {
    rethrow_with_context(
        e, fmt::format("installing the outbox triggers on {} (needs ownership of the table)", t.qualified_source()));
  }
}

}  // namespace

void install_triggers(pg::Connection& conn, const OutboxNames& names,
                      const std::vector<const pipeline::TableSchema*>& tables, OutboxLayout layout) {
  SourceTransaction tx(conn);
  for (const auto* t : tables) install_table_triggers(conn, names, *t, layout);
  install_partition_truncates(conn, names, tables);
  tx.commit();
}

void install(pg::Connection& conn, const OutboxNames& names, const std::vector<const pipeline::TableSchema*>& tables,
             OutboxLayout layout) {
  SourceTransaction tx(conn);
  try {
    migrate_id_ordered_queue(conn, names, tables, layout.payload);
    for (const auto& sql : queue_ddl(names, layout.payload)) conn.exec(sql);
  } catch (const Error& e) {
    rethrow_with_context(e, fmt::format("creating the outbox events table {}", names.events_table()));
  }
  std::set<std::string> wanted;
  for (const auto* t : tables) {
    install_table_triggers(conn, names, *t, layout);
    for (TriggerOp op : kTriggerOps) wanted.insert(names.function_name(t->relation_oid, op));
    if (t->partitioned) wanted.insert(partition_truncate_function(names, *t));
  }
  install_partition_truncates(conn, names, tables);
  // A table that left the config (or was dropped and re-created) must stop queueing events this
  // pipeline would refuse to drain.
  for (const auto& [name, signature] : our_functions(conn, names)) {
    if (wanted.contains(name)) continue;
    spdlog::info("dropping outbox trigger function {} with its trigger: its table is no longer captured", signature);
    conn.exec("DROP FUNCTION IF EXISTS " + signature + " CASCADE");
  }
  tx.commit();
}

std::vector<const pipeline::TableSchema*> verify_installed(pg::Connection& conn, const OutboxNames& names,
                                                          const std::vector<const pipeline::TableSchema*>& tables,
                                                          OutboxLayout layout,
                                                          const AddedAndIgnored& added_and_ignored) {
  std::vector<const pipeline::TableSchema*> behind;
  const std::string setup_hint = "run `pg2ch setup` with this config (it is idempotent)";
  pg::Result queue = conn.query("SELECT to_regclass($1) IS NOT NULL", {names.events_table()});
  if (!queue.boolean(0, 0)) {
    throw Error(ErrorKind::Config, fmt::format("the outbox events table {} does not exist", names.events_table()),
                setup_hint);
  }
  for (const auto* t : tables) {
    bool is_behind = false;
    for (TriggerOp op : kTriggerOps) {
      const auto installed = installed_function(conn, names, *t, op);
      if (!installed) {
        throw Error(ErrorKind::Config,
                    fmt::format("{} has no outbox trigger {} for pipeline {}", t->qualified_source(),
                                names.trigger_name(op), names.pipeline),
                    setup_hint);
      }
      if (installed->source == function_source(trigger_body(names, *t, layout, op))) continue;
      // Generated for this config from other columns: the table changed while pg2ch was not running.
      if (installed->comment == function_comment(names, *t, layout, op) ||
          (added_and_ignored &&
           installed->comment == function_comment(names, *t, layout, op, added_and_ignored(*t)))) {
        is_behind = true;
        continue;
      }
      throw Error(ErrorKind::Config,
                  fmt::format("the outbox triggers on {} were installed for another outbox.payload, outbox.triggers, "
                              "key or column list than this config has, or by an older pg2ch",
                              t->qualified_source()),
                  "after a pg2ch upgrade alone, " + setup_hint +
                      "; after a config change, drain the events with the old config first, then run setup");
    }
    if (is_behind) behind.push_back(t);
  }
  return behind;
}

void replace_functions(pg::Connection& conn, const OutboxNames& names, const pipeline::TableSchema& t,
                       OutboxLayout layout) {
  SourceTransaction tx(conn);
  try {
    for (const auto& sql : function_ddl(names, t, layout)) conn.exec(sql);
  } catch (const Error& e) {
    rethrow_with_context(e, fmt::format("replacing the outbox trigger functions of {}", t.qualified_source()));
  }
  tx.commit();
}

RemoveResult remove(pg::Connection& conn, const OutboxNames& names) {
  RemoveResult out;
  {
    SourceTransaction tx(conn);
    for (const auto& [name, signature] : our_functions(conn, names)) {
      // CASCADE: a trigger depends on its function, and nothing else can.
      conn.exec("DROP FUNCTION IF EXISTS " + signature + " CASCADE");
      ++out.functions;
    }
    const std::string marker = names.writes_marker();
    pg::Result others = conn.query(
        "SELECT count(*) FROM pg_proc p JOIN pg_namespace ns ON ns.oid = p.pronamespace "
        "WHERE ns.nspname = $1 AND right(coalesce(obj_description(p.oid, 'pg_proc'), ''), length($2)) = $2",
        {names.schema, marker});
    if (others.int64(0, 0) == 0) {
      conn.exec("DROP TABLE IF EXISTS " + names.progress_table());
      conn.exec("DROP TABLE IF EXISTS " + names.truncates_table());
      conn.exec("DROP TABLE IF EXISTS " + names.events_table());
      out.dropped_queue = true;
    }
    tx.commit();
  }
  if (out.dropped_queue && names.schema != "public") {
    // Only an empty schema goes (RESTRICT): other pipelines or the postgres state store may use it.
    conn.try_query("DROP SCHEMA IF EXISTS " + quote_ident(names.schema));
  }
  return out;
}

}  // namespace pg2ch::capture::outbox
