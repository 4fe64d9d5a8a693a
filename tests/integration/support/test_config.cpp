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
  if (!t.watermark.empty()) entry.insert("watermark", t.watermark);
  if (!t.key.empty()) entry.insert("key", string_array(t.key));
  if (!t.types.empty()) {
    toml::table types;
    for (const auto& [column, type] : t.types) types.insert(column, type);
    entry.insert("types", types);
  }
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

// Empty strings are left out: several kafka settings reject an empty value.
static toml::table kafka_section(const config::KafkaConfig& k) {
  toml::table t;
  auto put = [&t](const char* key, const std::string& value) {
    if (!value.empty()) t.insert(key, value);
  };
  put("brokers", k.brokers);
  put("topic_prefix", k.topic_prefix);
  put("topic", k.topic);
  put("format", k.format);
  put("group_id", k.group_id);
  put("auto_offset_reset", k.auto_offset_reset);
  put("dead_letter_topic", k.dead_letter_topic);
  put("security_protocol", k.security_protocol);
  put("sasl_mechanism", k.sasl_mechanism);
  put("sasl_username", k.sasl_username);
  put("sasl_password", k.sasl_password);
  put("sasl_password_file", k.sasl_password_file);
  put("ssl_ca_location", k.ssl_ca_location);
  put("ssl_certificate_location", k.ssl_certificate_location);
  put("ssl_key_location", k.ssl_key_location);
  put("ssl_key_password", k.ssl_key_password);
  t.insert("tombstones", k.tombstones);
  t.insert("session_timeout_ms", static_cast<std::int64_t>(k.session_timeout.count()));
  t.insert("message_timeout_ms", static_cast<std::int64_t>(k.message_timeout.count()));
  return t;
}

std::filesystem::path write_config_file(const config::Config& c, const std::filesystem::path& path) {
  toml::array tables;
  for (const auto& t : c.tables) tables.push_back(table_entry(t));
  toml::table root{
      {"name", c.name},
      {"mode", c.mode},
      {"sink", c.sink},
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
                                 {"timeout", c.clickhouse.timeout_s},
                                 {"cluster", c.clickhouse.cluster},
                                 {"distributed", c.clickhouse.distributed},
                                 {"purge_deleted_after", c.clickhouse.purge_deleted_after_s},
                                 {"async_insert", c.clickhouse.async_insert}}},
      {"batch", toml::table{{"max_rows", static_cast<std::int64_t>(c.batch.max_rows)},
                            {"max_bytes", static_cast<std::int64_t>(c.batch.max_bytes)},
                            {"max_delay_ms", static_cast<std::int64_t>(c.batch.max_delay.count())},
                            {"idle_flush_ms", static_cast<std::int64_t>(c.batch.idle_flush.count())},
                            {"table_insert_interval_ms", static_cast<std::int64_t>(c.batch.table_insert_interval.count())},
                            {"max_inserts_per_second", static_cast<std::int64_t>(c.batch.max_inserts_per_second)}}},
      {"logical", toml::table{{"slot", c.logical.slot},
                              {"publication", c.logical.publication},
                              {"snapshot_workers", c.logical.snapshot_workers},
                              {"snapshot_range_mb", c.logical.snapshot_range_mb},
                              {"status_interval_ms", static_cast<std::int64_t>(c.logical.status_interval.count())},
                              {"retained_wal_warn_mb", c.logical.retained_wal_warn_mb},
                              {"streaming", c.logical.streaming},
                              {"spool_dir", c.logical.spool_dir},
                              {"on_column_added", c.logical.on_column_added},
                              {"on_type_widened", c.logical.on_type_widened},
                              {"on_not_null_dropped", c.logical.on_not_null_dropped},
                              {"on_column_dropped", c.logical.on_column_dropped},
                              {"on_column_renamed", c.logical.on_column_renamed}}},
      {"poll", toml::table{{"watermark", c.poll.watermark},
                           {"batch_size", static_cast<std::int64_t>(c.poll.batch_size)},
                           {"interval_ms", static_cast<std::int64_t>(c.poll.interval.count())}}},
      {"notify", toml::table{{"channel", c.notify.channel},
                             {"trigger_schema", c.notify.trigger_schema},
                             {"coalesce_ms", static_cast<std::int64_t>(c.notify.coalesce.count())}}},
      {"outbox", toml::table{{"schema", c.outbox.schema},
                             {"table", c.outbox.table},
                             {"payload", c.outbox.payload},
                             {"batch_size", static_cast<std::int64_t>(c.outbox.batch_size)},
                             {"interval_ms", static_cast<std::int64_t>(c.outbox.interval.count())}}},
      {"kafka", kafka_section(c.kafka)},
      {"state", toml::table{{"store", c.state.store}, {"path", c.state.path}}},
      {"log", toml::table{{"level", c.log.level},
                          {"format", c.log.format},
                          {"summary_interval_s", static_cast<std::int64_t>(c.log.summary_interval.count())}}},
      {"service", toml::table{{"retry_initial_ms", static_cast<std::int64_t>(c.service.retry_initial.count())},
                              {"retry_max_ms", static_cast<std::int64_t>(c.service.retry_max.count())},
                              {"metrics_listen", c.service.metrics_listen},
                              {"stop_timeout_ms", static_cast<std::int64_t>(c.service.stop_timeout.count())}}},
      {"tables", tables},
  };
  // Security settings only when set, so configs of other tests stay as they were.
  auto put = [&root](const char* section, const char* key, const std::string& value) {
    if (!value.empty()) root[section].as_table()->insert(key, value);
  };
  put("postgres", "password_file", c.postgres.password_file);
  put("postgres", "sslrootcert", c.postgres.sslrootcert);
  put("postgres", "sslcert", c.postgres.sslcert);
  put("postgres", "sslkey", c.postgres.sslkey);
  put("clickhouse", "password_file", c.clickhouse.password_file);
  put("clickhouse", "ca_file", c.clickhouse.ca_file);
  put("clickhouse", "cert_file", c.clickhouse.cert_file);
  put("clickhouse", "key_file", c.clickhouse.key_file);
  std::ofstream out(path);
  out << root << "\n";
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return path;
}

}  // namespace pg2ch::test
