#include "support/test_config.h"

#include <toml++/toml.h>

#include <fstream>
#include <stdexcept>

#include "support/servers.h"
#include "support/test_database.h"

namespace pg2ch::test {
namespace {

toml::array string_array(const std::vector<std::string>& items) {
  toml::array out;
  for (const auto& item : items) out.push_back(item);
  return out;
}

toml::table table_entry(const config::TableSelector& t) {
  toml::table entry{{"name", t.pattern}};
  if (!t.target.empty()) entry.insert("target", t.target);
  if (!t.include.empty()) entry.insert("include", string_array(t.include));
  if (!t.exclude.empty()) entry.insert("exclude", string_array(t.exclude));
  return entry;
}

}  // namespace

config::PostgresConfig postgres_config(const std::string& database) {
  config::PostgresConfig pg;
  pg.host = pg_server().host;
  pg.port = pg_server().port;
  pg.user = pg_server().user;
  pg.password = pg_server().password;
  pg.database = database;
  pg.sslmode = "disable";
  pg.connect_timeout_s = 10;
  return pg;
}

config::ClickHouseConfig clickhouse_config(const std::string& database) {
  config::ClickHouseConfig ch;
  ch.host = ch_server().host;
  ch.port = ch_server().port;
  ch.user = ch_server().user;
  ch.password = ch_server().password;
  ch.database = database;
  ch.timeout_s = 60;
  return ch;
}

clickhouse::Endpoint clickhouse_endpoint(const std::string& database) {
  auto ch = clickhouse_config(database);
  clickhouse::Endpoint e;
  e.host = ch.host;
  e.port = ch.port;
  e.secure = ch.secure;
  e.user = ch.user;
  e.password = ch.password;
  e.database = ch.database;
  e.timeout_s = ch.timeout_s;
  return e;
}

config::Config make_test_config(const TestDatabase& db, std::vector<std::string> table_patterns) {
  config::Config c;
  c.name = db.name();
  c.postgres = postgres_config(db.name());
  c.clickhouse = clickhouse_config(db.name());
  c.logical.slot = db.name();
  c.logical.publication = db.name();
  c.logical.status_interval = std::chrono::milliseconds(1000);
  c.batch.max_delay = std::chrono::milliseconds(200);
  c.state.path = (db.dir() / "pg2ch.state").string();
  c.log.level = "debug";
  for (auto& pattern : table_patterns) {
    c.tables.emplace_back();
    c.tables.back().pattern = std::move(pattern);
  }
  return c;
}

std::filesystem::path write_config_file(const config::Config& c, const std::filesystem::path& path) {
  toml::array tables;
  for (const auto& t : c.tables) tables.push_back(table_entry(t));
  toml::table root{
      {"name", c.name},
      {"mode", c.mode},
      {"postgres", toml::table{{"host", c.postgres.host},
                               {"port", c.postgres.port},
                               {"database", c.postgres.database},
                               {"user", c.postgres.user},
                               {"password", c.postgres.password},
                               {"sslmode", c.postgres.sslmode},
                               {"connect_timeout", c.postgres.connect_timeout_s}}},
      {"clickhouse", toml::table{{"host", c.clickhouse.host},
                                 {"port", c.clickhouse.port},
                                 {"user", c.clickhouse.user},
                                 {"password", c.clickhouse.password},
                                 {"database", c.clickhouse.database},
                                 {"secure", c.clickhouse.secure},
                                 {"compression", c.clickhouse.compression},
                                 {"timeout", c.clickhouse.timeout_s}}},
      {"batch", toml::table{{"max_rows", static_cast<std::int64_t>(c.batch.max_rows)},
                            {"max_bytes", static_cast<std::int64_t>(c.batch.max_bytes)},
                            {"max_delay_ms", static_cast<std::int64_t>(c.batch.max_delay.count())}}},
      {"logical", toml::table{{"slot", c.logical.slot},
                              {"publication", c.logical.publication},
                              {"snapshot_workers", c.logical.snapshot_workers},
                              {"status_interval_ms", static_cast<std::int64_t>(c.logical.status_interval.count())}}},
      {"state", toml::table{{"path", c.state.path}}},
      {"log", toml::table{{"level", c.log.level}, {"format", c.log.format}}},
      {"tables", tables},
  };
  std::ofstream out(path);
  out << root << "\n";
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return path;
}

}  // namespace pg2ch::test
