#include "capture/notify/notify_triggers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/notify/follow_up.h"

namespace pg2ch::capture::notify {

namespace {

// Functions of older pg2ch, one shared by every table: (channel) notified every statement,
// (channel, sequence, bucket) kept the last notified bucket in a sequence. Their triggers may
// still call them; teardown drops them when nothing does.
constexpr const char* kOlderFunctions[] = {"pg2ch_notify", "pg2ch_notify_v2"};

std::uint32_t channel_hash(const config::Config& cfg) {
  std::uint32_t h = 2166136261u;  // FNV-1a: two pipelines' objects on one table differ
  for (char c : cfg.notify.channel) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

std::string schema(pg::Connection& conn, const config::Config& cfg) {
  return conn.quote_identifier(cfg.notify.trigger_schema);
}

// "<trigger_schema>.pg2ch_notify_<table oid>_<channel hash>": one function per table and channel,
// so the hot path reads constants instead of TG_ARGV (an array built on every call).
std::string function_name(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table) {
  return schema(conn, cfg) + "." + fmt::format("pg2ch_notify_{}_{:08x}", table.oid, channel_hash(cfg));
}

std::string table_name(pg::Connection& conn, const pg::TableRef& t) {
  return conn.quote_identifier(t.schema) + "." + conn.quote_identifier(t.name);
}

// The sequence older pg2ch kept a table's last notified bucket in (dropped by setup and teardown).
std::string legacy_sequence(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table) {
  std::string name = fmt::format("notified_{}_{}", table.oid, cfg.notify.channel);
  if (name.size() > 63) name.resize(63);
  return schema(conn, cfg) + "." + conn.quote_identifier(name);
}

void drop_legacy_sequence(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table) {
  const std::string seq = legacy_sequence(conn, cfg, table);
  if (!conn.query("SELECT to_regclass($1) IS NULL", {seq}).boolean(0, 0)) conn.exec("DROP SEQUENCE " + seq);
}

// The trigger function of one table. Runs in every writing statement, so its common path is one
// IF over constants (about 12k instructions on top of the trigger call itself; the seed's per-row
// pg_notify trigger spends 27k in all, see bench/trigger_instructions.sh):
// - The last notified bucket is a session setting, not shared state: reading it is a hash lookup
//   (a sequence costs a relation open and a buffer lock), and it is transactional (a notifying
//   transaction that aborts takes its "already notified" with it, where a setval stayed and
//   silenced the bucket's other writers). Each session notifies a table at most once per bucket;
//   a transaction that skips was preceded in its session by one that notified.
// - The clock as a float epoch (date_part): numeric extract() costs more. The cast to int8 rounds,
//   so bucket b holds the clock readings within half a bucket of b * bucket_us; the payload's end,
//   (b + 1) * bucket_us + 1 µs, lies after every one of them however the float rounded
//   (follow_up.h relies on every skipper having read the clock before it).
// - A statement trigger's WHEN would skip the call, but PostgreSQL re-reads the WHEN's node tree
//   in every statement, which costs more than the whole function.
// SECURITY DEFINER without a SET clause (a GUC save and restore on every call, and it would undo
// the set_config): every function, operator and type is schema-qualified instead, so nothing on
// a writer's path runs with the owner's rights (coalesce is grammar, not a function).
// A partitioned table's trigger is a row trigger (see install_notify_triggers), cloned to its
// partitions, where TG_TABLE_NAME is the partition's: its payload names the partitioned table.
std::string function_body(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table,
                          bool partitioned) {
  const std::int64_t bucket = bucket_us(cfg.notify.coalesce.count());
  const std::string bucket_now = fmt::format(
      "(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) OPERATOR(pg_catalog.*) '{}'::pg_catalog.float8 "
      "OPERATOR(pg_catalog./) '{}'::pg_catalog.float8)::pg_catalog.int8",
      1000000, bucket);
  const std::string setting = conn.quote_literal(notified_setting(cfg, table));
  return fmt::format(R"(
DECLARE
  b pg_catalog.int8;
BEGIN
  IF coalesce(pg_catalog.current_setting({0}, true), '') OPERATOR(pg_catalog.<>) ({1})::pg_catalog.text THEN
    b := {1};
    PERFORM pg_catalog.set_config({0}, b::pg_catalog.text, false);
    PERFORM pg_catalog.pg_notify({2}, pg_catalog.concat({4}, ':',
      (b OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.*) {3} OPERATOR(pg_catalog.+) 1));
  END IF;
  RETURN NULL;
END
)",
                     setting, bucket_now, conn.quote_literal(cfg.notify.channel), bucket,
                     partitioned ? conn.quote_literal(table.qualified()) : "TG_TABLE_SCHEMA, '.', TG_TABLE_NAME");
}

}  // namespace

std::string trigger_name(const config::Config& cfg) {
  std::string name = "pg2ch_notify_" + cfg.notify.channel;
  if (name.size() > 63) name.resize(63);
  return name;
}

std::string notified_setting(const config::Config& cfg, const pg::TableRef& table) {
  return fmt::format("pg2ch.notified_{}_{:08x}", table.oid, channel_hash(cfg));
}

void install_notify_triggers(pg::Connection& conn, const config::Config& cfg, const std::vector<pg::TableRef>& tables) {
  const std::string trigger = conn.quote_identifier(trigger_name(cfg));
  try {
    conn.exec("BEGIN");
    conn.exec("CREATE SCHEMA IF NOT EXISTS " + schema(conn, cfg));
    for (const auto& t : tables) {
      const std::string fn = function_name(conn, cfg, t);
      // A partitioned table's statement trigger would not fire for statements that name a
      // partition; a row trigger on it is cloned to every partition, those created or attached
      // later included (PostgreSQL 13+). Its cost per row is the function's first IF.
      const bool partitioned =
          conn.query("SELECT relkind = 'p' FROM pg_class WHERE oid = $1::oid", {std::to_string(t.oid)}).boolean(0, 0);
      conn.exec(fmt::format("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS "
                            "$fn${}$fn$",
                            fn, function_body(conn, cfg, t, partitioned)));
      conn.exec(fmt::format("CREATE OR REPLACE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE{} ON {} FOR EACH {} "
                            "EXECUTE FUNCTION {}()",
                            trigger, partitioned ? "" : " OR TRUNCATE", table_name(conn, t),
                            partitioned ? "ROW" : "STATEMENT", fn));
      drop_legacy_sequence(conn, cfg, t);
    }
    conn.exec("COMMIT");
  } catch (const Error& e) {
    if (PQstatus(conn.get()) == CONNECTION_OK) conn.try_query("ROLLBACK");
    rethrow_with_context(e, fmt::format("while installing notify triggers (schema {})", cfg.notify.trigger_schema));
  }
}

void drop_notify_triggers(pg::Connection& conn, const config::Config& cfg, const std::vector<pg::TableRef>& tables) {
  const std::string trigger = conn.quote_identifier(trigger_name(cfg));
  for (const auto& t : tables) {
    conn.exec(fmt::format("DROP TRIGGER IF EXISTS {} ON {}", trigger, table_name(conn, t)));
    conn.exec(fmt::format("DROP FUNCTION IF EXISTS {}()", function_name(conn, cfg, t)));
    drop_legacy_sequence(conn, cfg, t);
  }
  // Other pipelines (other channels) may still use older pg2ch's shared functions: best effort.
  for (const char* name : kOlderFunctions) {
    pg::Result r = conn.try_query(fmt::format("DROP FUNCTION IF EXISTS {}.{}()", schema(conn, cfg), name));
    if (!r.ok() && r.sqlstate() == "2BP01") {
      spdlog::info("kept function {}.{}(): other pipelines' triggers still use it", cfg.notify.trigger_schema, name);
    } else if (!r.ok()) {
      throw pg::error_from_result(r, "dropping the notify trigger function");
    }
  }
}

bool has_notify_trigger(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table) {
  return conn
      .query("SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $1::oid AND tgname = $2)",
             {std::to_string(table.oid), trigger_name(cfg)})
      .boolean(0, 0);
}

bool notify_trigger_is_per_statement(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table) {
  return conn
      .query("SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $1::oid AND tgname = $2 AND tgnargs = 1)",
             {std::to_string(table.oid), trigger_name(cfg)})
      .boolean(0, 0);
}

}  // namespace pg2ch::capture::notify
