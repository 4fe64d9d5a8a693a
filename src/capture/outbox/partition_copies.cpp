#include "capture/outbox/partition_copies.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.h"

namespace pg2ch::capture::outbox {

namespace {

std::string trigger_name(const OutboxNames& n) { return fmt::format("pg2ch_{}_ptrunc", n.tag); }

std::string qualified_function(const OutboxNames& n, const pipeline::TableSchema& t) {
  return quote_ident(n.schema) + "." + quote_ident(partition_truncate_function(n, t));
}

}  // namespace

std::string partition_truncate_function(const OutboxNames& n, const pipeline::TableSchema& t) {
  return fmt::format("{}_{}_ptrunc", n.tag, t.relation_oid);
}

std::vector<std::string> partition_truncate_function_ddl(const OutboxNames& n, const pipeline::TableSchema& t) {
  // SECURITY DEFINER, every name qualified: as the other trigger functions (outbox_sql.cpp). A
  // partition detached since keeps the trigger, which then has nothing to ask for.
  const std::string body = fmt::format(
      "\nBEGIN\n  IF EXISTS (SELECT 1 FROM pg_catalog.pg_partition_ancestors(TG_RELID) a WHERE "
      "a.relid::pg_catalog.oid OPERATOR(pg_catalog.=) {0}::pg_catalog.oid) THEN\n    INSERT INTO {1} (lsn, rel, part) "
      "VALUES (pg_catalog.pg_current_wal_insert_lsn(), {0}::pg_catalog.oid, TG_RELID);\n  END IF;\n  RETURN NULL;\nEND\n",
      t.relation_oid, n.truncates_table());
  const std::string function = qualified_function(n, t);
  return {
      fmt::format("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $pg2ch${}$pg2ch$",
                  function, body),
      fmt::format("COMMENT ON FUNCTION {}() IS {}", function,
                  quote_literal(fmt::format("pg2ch outbox trigger of pipeline {} for TRUNCATEs of partitions of {}, {}",
                                            n.pipeline, t.qualified_source(), n.writes_marker()))),
  };
}

int ensure_partition_truncate_triggers(pg::Connection& conn, const OutboxNames& n,
                                       const std::vector<const pipeline::TableSchema*>& tables, bool refused_ok) {
  int created = 0;
  for (const auto* t : tables) {
    if (!t->partitioned) continue;
    pg::Result missing = conn.query(
        "SELECT c.oid::bigint, pg_catalog.format('%I.%I', ns.nspname, c.relname) FROM pg_partition_tree($1::oid) p "
        "JOIN pg_class c ON c.oid = p.relid JOIN pg_namespace ns ON ns.oid = c.relnamespace "
        "WHERE c.oid <> $1::oid AND c.relkind IN ('r', 'p') "
        "AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = $2)",
        {std::to_string(t->relation_oid), trigger_name(n)});
    if (missing.rows() == 0) continue;
    // Made by setup; a running pipeline's role may not own it (nor may replace it).
    const bool exists =
        conn.query("SELECT to_regprocedure($1) IS NOT NULL", {qualified_function(n, *t) + "()"}).boolean(0, 0);
    try {
      if (!exists) {
        for (const auto& sql : partition_truncate_function_ddl(n, *t)) conn.exec(sql);
      }
    } catch (const Error& e) {
      rethrow_with_context(e, fmt::format("creating the outbox function for TRUNCATEs of partitions of {} (needs "
                                          "CREATE on schema {}: run `pg2ch setup`)",
                                          t->qualified_source(), n.schema));
    }
    for (int i = 0; i < missing.rows(); ++i) {
      const std::string partition = missing.text(i, 1);
      const std::string sql = fmt::format("CREATE OR REPLACE TRIGGER {} AFTER TRUNCATE ON {} FOR EACH STATEMENT "
                                          "EXECUTE FUNCTION {}()",
                                          quote_ident(trigger_name(n)), partition, qualified_function(n, *t));
      try {
        conn.exec(sql);
        ++created;
      } catch (const Error& e) {
        // Dropped meanwhile: nothing to watch.
        if (conn.query("SELECT 1 FROM pg_class WHERE oid = $1::oid", {missing.text(i, 0)}).rows() == 0) continue;
        Error refused(e.kind(),
                      fmt::format("cannot put the outbox TRUNCATE trigger on {}, a partition of {}: {}", partition,
                                  t->qualified_source(), e.what()),
                      fmt::format("pg2ch needs to own the partitions (or the TRIGGER privilege on them) to see a "
                                  "TRUNCATE of one: run `pg2ch setup` as their owner, or create it yourself: {}",
                                  sql),
                      e.retriable());
        if (!refused_ok || e.kind() != ErrorKind::Permission) throw refused;
        spdlog::warn("{} (a TRUNCATE of it leaves its rows in the target until `pg2ch resync {}`); {}", refused.what(),
                     t->qualified_source(), refused.hint());
      }
    }
  }
  return created;
}

void install_partition_truncates(pg::Connection& conn, const OutboxNames& n,
                                 const std::vector<const pipeline::TableSchema*>& tables) {
  for (const auto* t : tables) {
    if (!t->partitioned) continue;
    for (const auto& sql : partition_truncate_function_ddl(n, *t)) conn.exec(sql);
  }
  ensure_partition_truncate_triggers(conn, n, tables);
}

void request_copy(pg::Connection& conn, const OutboxNames& n, const pipeline::TableSchema& t,
                  std::uint32_t partition_oid) {
  conn.query(fmt::format("INSERT INTO {} (lsn, rel, part) VALUES (pg_catalog.pg_current_wal_insert_lsn(), $1::oid, "
                         "$2::oid)",
                         n.truncates_table()),
             {std::to_string(t.relation_oid), std::to_string(partition_oid)});
}

std::string lock_copy_requests_sql(const OutboxNames& n) {
  return fmt::format(
      "SELECT ctid, lsn FROM {0} WHERE rel = $1::pg_catalog.oid AND part IS NOT NULL AND lsn < COALESCE((SELECT "
      "min(lsn) FROM {0} WHERE rel = $1::pg_catalog.oid AND part IS NULL), 'FFFFFFFF/FFFFFFFF'::pg_catalog.pg_lsn) "
      "ORDER BY lsn FOR UPDATE",
      n.truncates_table());
}

std::string delete_copy_requests_sql(const OutboxNames& n) {
  return fmt::format("DELETE FROM {} WHERE rel = $1::pg_catalog.oid AND part IS NOT NULL AND lsn <= $2::pg_catalog.pg_lsn",
                     n.truncates_table());
}

}  // namespace pg2ch::capture::outbox
