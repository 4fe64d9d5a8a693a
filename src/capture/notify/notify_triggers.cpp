#include "capture/notify/notify_triggers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/notify/follow_up.h"

namespace pg2ch::capture::notify {

namespace {

// The function of pg2ch before session coalescing took (channel, sequence, bucket) and kept the
// last notified bucket in a sequence; its triggers may still call it, so it keeps its name and
// this one has another.
constexpr const char* kFunction = "pg2ch_notify_v2";
constexpr const char* kSequenceFunction = "pg2ch_notify";

std::string function_name(pg::Connection& conn, const config::Config& cfg, const char* name = kFunction) {
  return conn.quote_identifier(cfg.notify.trigger_schema) + "." + name;
}

std::string table_name(pg::Connection& conn, const pg::TableRef& t) {
  return conn.quote_identifier(t.schema) + "." + conn.quote_identifier(t.name);
}

// The sequence older pg2ch kept a table's last notified bucket in (dropped by setup and teardown).
std::string legacy_sequence(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table) {
  std::string name = fmt::format("notified_{}_{}", table.oid, cfg.notify.channel);
  if (name.size() > 63) name.resize(63);
  return conn.quote_identifier(cfg.notify.trigger_schema) + "." + conn.quote_identifier(name);
}

}  // namespace

std::string trigger_name(const config::Config& cfg) {
  std::string name = "pg2ch_notify_" + cfg.notify.channel;
  if (name.size() > 63) name.resize(63);
  return name;
}

std::string notified_setting(const config::Config& cfg, const pg::TableRef& table) {
  std::uint32_t h = 2166136261u;  // FNV-1a of the channel: two pipelines' triggers on one table differ
  for (char c : cfg.notify.channel) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return fmt::format("pg2ch.notified_{}_{:08x}", table.oid, h);
}

void install_notify_triggers(pg::Connection& conn, const config::Config& cfg, const std::vector<pg::TableRef>& tables) {
  const std::string fn = function_name(conn, cfg);
  const std::string trigger = conn.quote_identifier(trigger_name(cfg));
  // TG_ARGV: channel, setting, bucket length in µs. Kept small: it runs in every writing
  // statement (about 19k instructions against the seed's per-row pg_notify trigger's 26k, see
  // bench/trigger_instructions.sh).
  // - The last notified bucket is a session setting, not shared state: reading it is a hash
  //   lookup (a sequence costs a relation open and a buffer lock), and it is transactional (a
  //   notifying transaction that aborts takes its "already notified" with it, where a setval stayed
  //   and silenced the bucket's other writers). Each session notifies a table at most once per
  //   bucket; a transaction that skips was preceded in its session by one that notified.
  // - The clock as a float epoch (date_part): numeric extract() costs three times as much. The
  //   payload's bucket end gets 1 µs more than the bucket, for the float's rounding (follow_up.h
  //   relies on every skipper having read the clock before it).
  // SECURITY DEFINER without a SET clause (a GUC save and restore on every call, and it would undo
  // the set_config): every function, operator and type is schema-qualified instead, so nothing on
  // a writer's path runs with the owner's rights (coalesce is grammar, not a function).
  const std::string body = R"(
DECLARE
  b pg_catalog.int8;
BEGIN
  b := (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) OPERATOR(pg_catalog.*)
    '1e6'::pg_catalog.float8)::pg_catalog.int8 OPERATOR(pg_catalog./) TG_ARGV[2]::pg_catalog.int8;
  IF coalesce(pg_catalog.current_setting(TG_ARGV[1], true), '') OPERATOR(pg_catalog.<>) b::pg_catalog.text THEN
    PERFORM pg_catalog.set_config(TG_ARGV[1], b::pg_catalog.text, false);
    PERFORM pg_catalog.pg_notify(TG_ARGV[0], pg_catalog.concat(TG_TABLE_SCHEMA, '.', TG_TABLE_NAME, ':',
      (b OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.*) TG_ARGV[2]::pg_catalog.int8 OPERATOR(pg_catalog.+) 1));
  END IF;
  RETURN NULL;
END
)";
  try {
    conn.exec("BEGIN");
    conn.exec(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", conn.quote_identifier(cfg.notify.trigger_schema)));
    conn.exec(fmt::format("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS "
                          "$fn${}$fn$",
                          fn, body));
    const std::string bucket = std::to_string(bucket_us(cfg.notify.coalesce.count()));
    for (const auto& t : tables) {
      conn.exec(fmt::format("CREATE OR REPLACE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {} "
                            "FOR EACH STATEMENT EXECUTE FUNCTION {}({}, {}, {})",
                            trigger, table_name(conn, t), fn, conn.quote_literal(cfg.notify.channel),
                            conn.quote_literal(notified_setting(cfg, t)), conn.quote_literal(bucket)));
      const std::string seq = legacy_sequence(conn, cfg, t);
      if (!conn.query("SELECT to_regclass($1) IS NULL", {seq}).boolean(0, 0)) conn.exec("DROP SEQUENCE " + seq);
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
    const std::string seq = legacy_sequence(conn, cfg, t);
    if (!conn.query("SELECT to_regclass($1) IS NULL", {seq}).boolean(0, 0)) conn.exec("DROP SEQUENCE " + seq);
  }
  // Other pipelines (other channels) may still use the functions: dropping them is best effort.
  for (const char* name : {kFunction, kSequenceFunction}) {
    pg::Result r = conn.try_query(fmt::format("DROP FUNCTION IF EXISTS {}()", function_name(conn, cfg, name)));
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
      .query("SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $1::oid AND tgname = $2 AND tgnargs < 3)",
             {std::to_string(table.oid), trigger_name(cfg)})
      .boolean(0, 0);
}

}  // namespace pg2ch::capture::notify
