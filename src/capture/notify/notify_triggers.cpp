#include "capture/notify/notify_triggers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/notify/follow_up.h"

namespace pg2ch::capture::notify {

namespace {

constexpr const char* kFunction = "pg2ch_notify";

std::string function_name(pg::Connection& conn, const config::Config& cfg) {
  return conn.quote_identifier(cfg.notify.trigger_schema) + "." + kFunction;
}

std::string table_name(pg::Connection& conn, const pg::TableRef& t) {
  return conn.quote_identifier(t.schema) + "." + conn.quote_identifier(t.name);
}

}  // namespace

std::string trigger_name(const config::Config& cfg) {
  std::string name = "pg2ch_notify_" + cfg.notify.channel;
  if (name.size() > 63) name.resize(63);
  return name;
}

std::string notified_sequence(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table) {
  std::string name = fmt::format("notified_{}_{}", table.oid, cfg.notify.channel);
  if (name.size() > 63) name.resize(63);
  return conn.quote_identifier(cfg.notify.trigger_schema) + "." + conn.quote_identifier(name);
}

void install_notify_triggers(pg::Connection& conn, const config::Config& cfg, const std::vector<pg::TableRef>& tables) {
  const std::string fn = function_name(conn, cfg);
  const std::string trigger = conn.quote_identifier(trigger_name(cfg));
  // TG_ARGV: channel, sequence, bucket length in µs. Kept small: it runs in every writing
  // statement. Integer µs math (extract(epoch) is exact numeric), the same as follow_up.cpp.
  // SECURITY DEFINER: writers need no privilege on the sequence (setval wants UPDATE). No SET
  // search_path (a GUC save and restore on every call, about as much as the rest of the body):
  // every function, operator and type is schema-qualified instead, so nothing on a writer's
  // path runs with the owner's rights (extract() is grammar that always means pg_catalog's).
  // to_regclass: a dropped sequence degrades to a notification per statement, never to a failing
  // INSERT. Fewer than 3 arguments: a trigger of an older pg2ch sharing this function.
  const std::string body = R"(
DECLARE
  b pg_catalog.int8;
  seq pg_catalog.regclass;
BEGIN
  IF TG_NARGS OPERATOR(pg_catalog.<) 3 THEN
    PERFORM pg_catalog.pg_notify(TG_ARGV[0], pg_catalog.concat(TG_TABLE_SCHEMA, '.', TG_TABLE_NAME));
    RETURN NULL;
  END IF;
  b := (extract(epoch FROM pg_catalog.clock_timestamp()) OPERATOR(pg_catalog.*) 1000000)::pg_catalog.int8
    OPERATOR(pg_catalog./) TG_ARGV[2]::pg_catalog.int8;
  seq := pg_catalog.to_regclass(TG_ARGV[1]);
  IF b OPERATOR(pg_catalog.>) coalesce(pg_catalog.pg_sequence_last_value(seq), -1) THEN
    PERFORM pg_catalog.setval(seq, b);
    PERFORM pg_catalog.pg_notify(TG_ARGV[0], pg_catalog.concat(TG_TABLE_SCHEMA, '.', TG_TABLE_NAME, ':',
      (b OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.*) TG_ARGV[2]::pg_catalog.int8));
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
      const std::string seq = notified_sequence(conn, cfg, t);
      // Starts uncalled (last value NULL to the trigger): the first statement notifies.
      conn.exec(fmt::format("CREATE SEQUENCE IF NOT EXISTS {} MINVALUE 0 START 0", seq));
      conn.exec(fmt::format("CREATE OR REPLACE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {} "
                            "FOR EACH STATEMENT EXECUTE FUNCTION {}({}, {}, {})",
                            trigger, table_name(conn, t), fn, conn.quote_literal(cfg.notify.channel),
                            conn.quote_literal(seq), conn.quote_literal(bucket)));
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
    // The trigger first: a trigger whose sequence is gone would notify every statement.
    conn.exec(fmt::format("DROP TRIGGER IF EXISTS {} ON {}", trigger, table_name(conn, t)));
    conn.exec(fmt::format("DROP SEQUENCE IF EXISTS {}", notified_sequence(conn, cfg, t)));
  }
  // Other pipelines (other channels) may still use the function: dropping it is best effort.
  pg::Result r = conn.try_query(fmt::format("DROP FUNCTION IF EXISTS {}()", function_name(conn, cfg)));
  if (!r.ok() && r.sqlstate() == "2BP01") {
    spdlog::info("kept function {}.{}(): other pipelines' triggers still use it", cfg.notify.trigger_schema, kFunction);
  } else if (!r.ok()) {
    throw pg::error_from_result(r, "dropping the notify trigger function");
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
