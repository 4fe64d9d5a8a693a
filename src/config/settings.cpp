#include "config/settings.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>

#include "config/strings.h"
#include "config/validators.h"

namespace pg2ch::config::detail {
namespace {

using Type = ValueType;
constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

const std::string& str(const Value& v) { return std::get<std::string>(v); }
std::int64_t num(const Value& v) { return std::get<std::int64_t>(v); }
bool flag(const Value& v) { return std::get<bool>(v); }

int port(const Value& v, std::string_view example) {
  return static_cast<int>(
      in_range(num(v), 1, 65535, "set the TCP port the server listens on, e.g. " + std::string(example)));
}

std::size_t positive_size(const Value& v, std::string_view remedy) {
  return static_cast<std::size_t>(in_range(num(v), 1, kMaxInt, remedy));
}

std::chrono::milliseconds millis(const Value& v, std::int64_t min, std::int64_t max, std::string_view remedy) {
  return std::chrono::milliseconds(in_range(num(v), min, max, remedy));
}

// "kafka" as a mode is the consumer: it reads the topics another pipeline (sink = kafka) wrote.
std::string mode(const Value& v) { return one_of(str(v), {"logical", "poll", "notify", "outbox", "kafka"}); }

const std::vector<Setting> kSettings = {
    {"name", Type::String, false, [](Config& c, const Value& v) { c.name = pipeline_name(str(v)); }},
    {"mode", Type::String, false, [](Config& c, const Value& v) { c.mode = mode(v); }},
    {"sink", Type::String, false,
     [](Config& c, const Value& v) { c.sink = one_of(str(v), {"clickhouse", "kafka", "both"}); }},

    {"postgres.host", Type::String, false,
     [](Config& c, const Value& v) { c.postgres.host = host_name(str(v), "postgres.port", /*socket_directory_allowed=*/true); }},
    {"postgres.port", Type::Integer, false, [](Config& c, const Value& v) { c.postgres.port = port(v, "5432"); }},
    {"postgres.database", Type::String, false,
     [](Config& c, const Value& v) {
       c.postgres.database = non_empty(str(v), "set the database that holds the tables to copy");
     }},
    {"postgres.user", Type::String, false,
     [](Config& c, const Value& v) { c.postgres.user = non_empty(str(v), "set the PostgreSQL role to log in as"); }},
    {"postgres.password", Type::String, true, [](Config& c, const Value& v) { c.postgres.password = str(v); }},
    {"postgres.sslmode", Type::String, false,
     [](Config& c, const Value& v) {
       c.postgres.sslmode = one_of(str(v), {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"});
     }},
    {"postgres.sslrootcert", Type::String, false, [](Config& c, const Value& v) { c.postgres.sslrootcert = str(v); }},
    {"postgres.sslcert", Type::String, false, [](Config& c, const Value& v) { c.postgres.sslcert = str(v); }},
    {"postgres.sslkey", Type::String, false, [](Config& c, const Value& v) { c.postgres.sslkey = str(v); }},
    {"postgres.password_file", Type::String, false,
     [](Config& c, const Value& v) { c.postgres.password_file = str(v); }},
    {"postgres.connect_timeout", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.postgres.connect_timeout_s =
           static_cast<int>(in_range(num(v), 0, 3600, "set seconds to wait for a connection (0 waits forever)"));
     }},

    {"clickhouse.host", Type::String, false,
     [](Config& c, const Value& v) {
       c.clickhouse.host = host_name(str(v), "clickhouse.port", /*socket_directory_allowed=*/false);
     }},
    {"clickhouse.port", Type::Integer, false,
     [](Config& c, const Value& v) { c.clickhouse.port = port(v, "8123 (the HTTP interface)"); }},
    {"clickhouse.user", Type::String, false,
     [](Config& c, const Value& v) { c.clickhouse.user = non_empty(str(v), "set the ClickHouse user, e.g. default"); }},
    {"clickhouse.password", Type::String, true, [](Config& c, const Value& v) { c.clickhouse.password = str(v); }},
    {"clickhouse.password_file", Type::String, false,
     [](Config& c, const Value& v) { c.clickhouse.password_file = str(v); }},
    {"clickhouse.database", Type::String, false,
     [](Config& c, const Value& v) {
       c.clickhouse.database = non_empty(str(v), "set the ClickHouse database to write to");
     }},
    {"clickhouse.secure", Type::Boolean, false, [](Config& c, const Value& v) { c.clickhouse.secure = flag(v); }},
    {"clickhouse.ca_file", Type::String, false, [](Config& c, const Value& v) { c.clickhouse.ca_file = str(v); }},
    {"clickhouse.cert_file", Type::String, false, [](Config& c, const Value& v) { c.clickhouse.cert_file = str(v); }},
    {"clickhouse.key_file", Type::String, false, [](Config& c, const Value& v) { c.clickhouse.key_file = str(v); }},
    {"clickhouse.compression", Type::String, false,
     [](Config& c, const Value& v) { c.clickhouse.compression = one_of(str(v), {"auto", "none", "gzip", "zstd"}); }},
    {"clickhouse.timeout", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.clickhouse.timeout_s =
           static_cast<int>(in_range(num(v), 1, 86400, "set seconds one ClickHouse request may take, e.g. 300"));
     }},
    {"clickhouse.cluster", Type::String, false,
     [](Config& c, const Value& v) { c.clickhouse.cluster = cluster_name(str(v)); }},
    {"clickhouse.distributed", Type::Boolean, false,
     [](Config& c, const Value& v) { c.clickhouse.distributed = flag(v); }},
    {"clickhouse.async_insert", Type::Boolean, false,
     [](Config& c, const Value& v) { c.clickhouse.async_insert = flag(v); }},
    {"clickhouse.purge_deleted_after", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.clickhouse.purge_deleted_after_s = static_cast<int>(
           in_range(num(v), 0, 31536000,
                    "set seconds after which ClickHouse's merges purge deleted rows, e.g. 86400 (0 keeps them)"));
     }},

    {"batch.max_rows", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.batch.max_rows = positive_size(v, "set the most rows one ClickHouse insert may carry, e.g. 100000");
     }},
    {"batch.max_bytes", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.batch.max_bytes = positive_size(v, "set the most bytes one ClickHouse insert may carry, e.g. 33554432");
     }},
    {"batch.max_delay_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.batch.max_delay =
           millis(v, 1, 3600000, "set how long a change may wait for its batch, in milliseconds, e.g. 1000");
     }},
    {"batch.idle_flush_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.batch.idle_flush = millis(
           v, 1, 3600000, "set how long a batch waits once the source has nothing more to send, in ms, e.g. 200");
     }},
    {"batch.table_insert_interval_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.batch.table_insert_interval = millis(
           v, 0, 3600000, "set the least time between two INSERTs into one table, in ms, e.g. 1000 (0: no floor)");
     }},
    {"batch.max_inserts_per_second", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.batch.max_inserts_per_second = static_cast<double>(in_range(
           num(v), 0, 100000, "set the most INSERTs a second for all tables of the pipeline, e.g. 20 (0: no limit)"));
     }},

    {"logical.slot", Type::String, false, [](Config& c, const Value& v) { c.logical.slot = pg_identifier(str(v)); }},
    {"logical.publication", Type::String, false,
     [](Config& c, const Value& v) { c.logical.publication = pg_identifier(str(v)); }},
    {"logical.snapshot_workers", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.logical.snapshot_workers =
           static_cast<int>(in_range(num(v), 0, 256, "set parallel snapshot connections; 0 means one per CPU core"));
     }},
    {"logical.snapshot_range_mb", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.logical.snapshot_range_mb = static_cast<int>(in_range(
           num(v), 1, 1000000, "set the MB of a table one initial-copy range holds (what a kill costs), e.g. 256"));
     }},
    {"logical.status_interval_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.logical.status_interval = millis(
           v, 100, 3600000, "set milliseconds between standby status updates, below wal_sender_timeout, e.g. 10000");
     }},
    {"logical.retained_wal_warn_mb", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.logical.retained_wal_warn_mb = in_range(
           num(v), 0, 100000000, "set the WAL (MB) the slot may hold back before pg2ch warns; 0 turns the warning off");
     }},
    {"logical.streaming", Type::Boolean, false, [](Config& c, const Value& v) { c.logical.streaming = flag(v); }},
    {"logical.spool_dir", Type::String, false, [](Config& c, const Value& v) { c.logical.spool_dir = str(v); }},
    {"logical.on_column_added", Type::String, false,
     [](Config& c, const Value& v) { c.logical.on_column_added = one_of(str(v), {"evolve", "ignore", "stop"}); }},
    {"logical.on_type_widened", Type::String, false,
     [](Config& c, const Value& v) { c.logical.on_type_widened = one_of(str(v), {"evolve", "ignore", "stop"}); }},
    {"logical.on_column_renamed", Type::String, false,
     [](Config& c, const Value& v) { c.logical.on_column_renamed = one_of(str(v), {"evolve", "ignore", "stop"}); }},
    {"logical.on_column_dropped", Type::String, false,
     [](Config& c, const Value& v) { c.logical.on_column_dropped = one_of(str(v), {"evolve", "ignore", "stop"}); }},
    {"logical.on_not_null_dropped", Type::String, false,
     [](Config& c, const Value& v) { c.logical.on_not_null_dropped = one_of(str(v), {"evolve", "ignore", "stop"}); }},
    {"logical.on_table_dropped", Type::String, false,
     [](Config& c, const Value& v) { c.logical.on_table_dropped = one_of(str(v), {"keep", "drop"}); }},

    {"poll.watermark", Type::String, false,
     [](Config& c, const Value& v) {
       c.poll.watermark = non_empty(str(v), "name the column that grows with every change, e.g. id or updated_at");
     }},
    {"poll.batch_size", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.poll.batch_size = positive_size(v, "set how many rows one poll query may return, e.g. 10000");
     }},
    {"poll.interval_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.poll.interval = millis(v, 1, 86400000, "set milliseconds between polls once caught up, e.g. 1000");
     }},

    {"notify.channel", Type::String, false,
     [](Config& c, const Value& v) { c.notify.channel = pg_identifier(str(v)); }},
    {"notify.trigger_schema", Type::String, false,
     [](Config& c, const Value& v) { c.notify.trigger_schema = pg_identifier(str(v)); }},
    {"notify.coalesce_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.notify.coalesce = millis(v, 0, 60000, "set milliseconds to gather a burst of notifications, e.g. 50");
     }},

    {"outbox.schema", Type::String, false, [](Config& c, const Value& v) { c.outbox.schema = pg_identifier(str(v)); }},
    {"outbox.table", Type::String, false, [](Config& c, const Value& v) { c.outbox.table = pg_identifier(str(v)); }},
    {"outbox.payload", Type::String, false,
     [](Config& c, const Value& v) { c.outbox.payload = one_of(str(v), {"key", "row"}); }},
    {"outbox.triggers", Type::String, false,
     [](Config& c, const Value& v) { c.outbox.triggers = one_of(str(v), {"row", "statement"}); }},
    {"outbox.batch_size", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.outbox.batch_size = positive_size(v, "set how many events one drain transaction may claim, e.g. 10000");
     }},
    {"outbox.interval_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.outbox.interval = millis(v, 1, 86400000, "set milliseconds to wait when no events are queued, e.g. 200");
     }},

    {"kafka.brokers", Type::String, false,
     [](Config& c, const Value& v) {
       c.kafka.brokers = non_empty(str(v), "list bootstrap brokers as host:port[,host:port], e.g. 127.0.0.1:9092");
     }},
    {"kafka.topic_prefix", Type::String, false,
     [](Config& c, const Value& v) { c.kafka.topic_prefix = non_empty(str(v), "set a topic prefix, e.g. pg2ch"); }},
    {"kafka.topic", Type::String, false, [](Config& c, const Value& v) { c.kafka.topic = str(v); }},
    {"kafka.format", Type::String, false,
     [](Config& c, const Value& v) { c.kafka.format = one_of(str(v), {"debezium", "key"}); }},
    {"kafka.group_id", Type::String, false,
     [](Config& c, const Value& v) { c.kafka.group_id = non_empty(str(v), "set the consumer group id, e.g. pg2ch"); }},
    {"kafka.auto_offset_reset", Type::String, false,
     [](Config& c, const Value& v) { c.kafka.auto_offset_reset = one_of(str(v), {"earliest", "latest"}); }},
    {"kafka.tombstones", Type::Boolean, false, [](Config& c, const Value& v) { c.kafka.tombstones = flag(v); }},
    {"kafka.session_timeout_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.kafka.session_timeout = millis(v, 1000, 3600000,
                                        "set how long the group waits for a silent consumer, in milliseconds, e.g. 45000");
     }},
    {"kafka.message_timeout_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.kafka.message_timeout = millis(v, 1000, 86400000,
                                        "set how long a message may wait for the brokers, in milliseconds, e.g. 300000");
     }},
    {"kafka.dead_letter_topic", Type::String, false,
     [](Config& c, const Value& v) { c.kafka.dead_letter_topic = str(v); }},
    {"kafka.security_protocol", Type::String, false,
     [](Config& c, const Value& v) {
       c.kafka.security_protocol = one_of(str(v), {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"});
     }},
    {"kafka.sasl_mechanism", Type::String, false, [](Config& c, const Value& v) { c.kafka.sasl_mechanism = str(v); }},
    {"kafka.sasl_username", Type::String, false, [](Config& c, const Value& v) { c.kafka.sasl_username = str(v); }},
    {"kafka.sasl_password", Type::String, true, [](Config& c, const Value& v) { c.kafka.sasl_password = str(v); }},
    {"kafka.sasl_password_file", Type::String, false,
     [](Config& c, const Value& v) { c.kafka.sasl_password_file = str(v); }},
    {"kafka.ssl_ca_location", Type::String, false,
     [](Config& c, const Value& v) { c.kafka.ssl_ca_location = str(v); }},
    {"kafka.ssl_certificate_location", Type::String, false,
     [](Config& c, const Value& v) { c.kafka.ssl_certificate_location = str(v); }},
    {"kafka.ssl_key_location", Type::String, false,
     [](Config& c, const Value& v) { c.kafka.ssl_key_location = str(v); }},
    {"kafka.ssl_key_password", Type::String, true,
     [](Config& c, const Value& v) { c.kafka.ssl_key_password = str(v); }},

    {"state.store", Type::String, false,
     [](Config& c, const Value& v) { c.state.store = one_of(str(v), {"file", "postgres"}); }},
    {"state.path", Type::String, false,
     [](Config& c, const Value& v) { c.state.path = non_empty(str(v), "set a file path for pg2ch's local state"); }},

    {"log.level", Type::String, false,
     [](Config& c, const Value& v) { c.log.level = one_of(str(v), {"trace", "debug", "info", "warn", "error"}); }},
    {"log.format", Type::String, false,
     [](Config& c, const Value& v) { c.log.format = one_of(str(v), {"text", "json"}); }},
    {"log.summary_interval_s", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.log.summary_interval = std::chrono::seconds(
           in_range(num(v), 0, 86400, "set seconds between summary lines, e.g. 60 (0 turns them off)"));
     }},

    {"service.retry_initial_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.service.retry_initial = millis(v, 1, 3600000, "set the first retry delay in milliseconds, e.g. 1000");
     }},
    {"service.retry_max_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.service.retry_max = millis(v, 1, 86400000, "set the longest retry delay in milliseconds, e.g. 60000");
     }},
    {"service.metrics_listen", Type::String, false,
     [](Config& c, const Value& v) { c.service.metrics_listen = listen_address(str(v)); }},
    {"service.stop_timeout_ms", Type::Integer, false,
     [](Config& c, const Value& v) {
       c.service.stop_timeout = millis(v, 100, 3600000, "set the longest orderly stop in milliseconds, e.g. 30000");
     }},
};

const std::vector<std::string_view> kSections = {"postgres", "clickhouse", "batch", "logical", "poll",
                                                 "notify",   "outbox",     "kafka", "state",   "log", "service"};

Value parse_text(ValueType type, std::string_view text) {
  switch (type) {
    case ValueType::String:
      return std::string(text);
    case ValueType::Integer: {
      auto t = trim(text);
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (t.empty() || ec != std::errc() || end != t.data() + t.size())
        throw Invalid{"is not a whole number", "write digits only, without units, e.g. 5432"};
      return n;
    }
    case ValueType::Boolean: {
      auto t = lowercase(trim(text));
      if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
      if (t == "false" || t == "0" || t == "no" || t == "off") return false;
      throw Invalid{"is not a boolean", "write true or false"};
    }
  }
  throw Invalid{"has an unknown type", "report this as a bug"};
}

std::string_view type_remedy(ValueType type) {
  switch (type) {
    case ValueType::String: return "put the value in double quotes";
    case ValueType::Integer: return "write a number without quotes or units";
    case ValueType::Boolean: return "write true or false without quotes";
  }
  return "";
}

std::string show(const Value& v) {
  if (auto s = std::get_if<std::string>(&v)) return "\"" + *s + "\"";
  if (auto n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  return std::get<bool>(v) ? "true" : "false";
}

}  // namespace

const std::vector<std::string_view>& sections() { return kSections; }
const std::vector<Setting>& settings() { return kSettings; }

const Setting* find_setting(std::string_view key) {
  auto it = std::find_if(kSettings.begin(), kSettings.end(), [&](const Setting& s) { return s.key == key; });
  return it == kSettings.end() ? nullptr : &*it;
}

std::string keys_of_section(std::string_view section) {
  std::string prefix = std::string(section) + ".";
  std::string keys;
  for (const auto& s : kSettings) {
    if (!s.key.starts_with(prefix)) continue;
    if (!keys.empty()) keys += ", ";
    keys += s.key.substr(prefix.size());
  }
  return keys;
}

std::string_view type_name(ValueType type) {
  switch (type) {
    case ValueType::String: return "a string";
    case ValueType::Integer: return "an integer";
    case ValueType::Boolean: return "a boolean";
  }
  return "a value";
}

Error setting_error(std::string_view key, std::string_view source, const std::optional<std::string>& shown,
                    const Invalid& invalid) {
  std::string message = "setting " + std::string(key) + " (from " + std::string(source) + ")";
  if (shown) message += " = " + *shown;
  message += ": " + invalid.problem;
  return Error(ErrorKind::Config, std::move(message), invalid.remedy);
}

void apply_value(Config& config, const Setting& setting, const Value& value, std::string_view source) {
  auto shown = setting.secret ? std::nullopt : std::optional(show(value));
  auto actual = static_cast<ValueType>(value.index());
  if (actual != setting.type)
    throw setting_error(setting.key, source, shown,
                        {"must be " + std::string(type_name(setting.type)) + ", not " + std::string(type_name(actual)),
                         std::string(type_remedy(setting.type))});
  try {
    setting.apply(config, value);
  } catch (const Invalid& invalid) {
    throw setting_error(setting.key, source, shown, invalid);
  }
  config.given[std::string(setting.key)] =
      setting.secret ? "digest " + std::to_string(std::hash<std::string>{}(show(value))) : show(value);
}

void apply_text(Config& config, const Setting& setting, std::string_view text, std::string_view source) {
  Value value;
  try {
    value = parse_text(setting.type, text);
  } catch (const Invalid& invalid) {
    auto shown = setting.secret ? std::nullopt : std::optional("\"" + std::string(text) + "\"");
    throw setting_error(setting.key, source, shown, invalid);
  }
  apply_value(config, setting, value, source);
}

}  // namespace pg2ch::config::detail
