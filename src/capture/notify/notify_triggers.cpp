#include "capture/notify/notify_triggers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

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

void install_notify_triggers(pg::Connection& conn, const config::Config& cfg, const std::vector<pg::TableRef>& tables) {
  const std::string fn = function_name(conn, cfg);
  const std::string trigger = conn.quote_identifier(trigger_name(cfg));
  try {
    conn.exec("BEGIN");
    conn.exec(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", conn.quote_identifier(cfg.notify.trigger_schema)));
    conn.exec(fmt::format(
        "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
        "BEGIN\n"
        "  -- pg2ch notify capture: wake the listener on channel TG_ARGV[0]; it polls the table.\n"
        "  PERFORM pg_notify(TG_ARGV[0], TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);\n"
        "  RETURN NULL;\n"
        "END\n"
        "$fn$",
        fn));
    for (const auto& t : tables) {
      conn.exec(fmt::format("CREATE OR REPLACE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {} "
                            "FOR EACH STATEMENT EXECUTE FUNCTION {}({})",
                            trigger, table_name(conn, t), fn, conn.quote_literal(cfg.notify.channel)));
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

}  // namespace pg2ch::capture::notify
