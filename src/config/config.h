#pragma once
// pg2ch configuration: one pipeline per config file (one systemd unit per pipeline).
//
// Sources, lowest to highest precedence:
//   built-in defaults < TOML file (--config) < .env file < process environment < CLI flags
// The .env file is `--env-file PATH` or, if not given, `.env` in the working directory when present.
// Environment names are the seed's: PG_HOST PG_PORT PG_DB PG_USER PG_PASSWORD CH_HOST CH_PORT
// CH_USER CH_PASSWORD CH_DATABASE, plus PG2CH_<SECTION>_<KEY> for every other setting
// (e.g. PG2CH_BATCH_MAX_ROWS, PG2CH_LOGICAL_SLOT).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pg2ch::config {

struct PostgresConfig {
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string database = "postgres";
  std::string user = "postgres";
  std::string password;                 // secret: never logged
  // A file holding the password (first line; read at load, warned about when group/world
  // readable). Instead of password, never together with it.
  std::string password_file;
  std::string sslmode = "prefer";       // disable | allow | prefer | require | verify-ca | verify-full
  std::string sslrootcert;              // CA file the server's certificate must chain to (verify-*)
  std::string sslcert;                  // client certificate (pg_hba `cert` / clientcert=verify-full)
  std::string sslkey;                   // its private key (libpq wants mode 0600 or stricter)
  int connect_timeout_s = 10;
  // libpq keyword/value connection string; `replication=database` added for the stream.
  // The password is included: the result must never be logged (use describe() for logs).
  std::string conninfo(bool replication = false) const;
  std::string describe() const;         // "user@host:port/db" — safe for logs
};

struct ClickHouseConfig {
  std::string host = "127.0.0.1";
  int port = 8123;                      // HTTP interface
  std::string user = "default";
  std::string password;                 // secret: never logged
  std::string password_file;            // as postgres.password_file
  std::string database = "default";
  bool secure = false;                  // https
  std::string ca_file;                  // https: CA file the server's certificate must chain to
  std::string cert_file;                // https: client certificate (PEM), for servers that ask
  std::string key_file;                 // https: its private key (PEM)
  std::string compression = "auto";     // auto | none | gzip | zstd (auto: none on loopback, gzip otherwise)
  int timeout_s = 300;
  // A cluster of the server's <remote_servers>: every DDL runs ON CLUSTER and the targets are
  // ReplicatedReplacingMergeTree (docs/clickhouse.md#clusters). Empty: one server.
  std::string cluster;
  // With a cluster of several shards: also a Distributed table per target, sharded by the key's
  // hash, which pg2ch inserts into (synchronously) and the __current view reads.
  bool distributed = false;
  // > 0: ClickHouse's own merges purge deleted rows (and the versions they replace) from parts older
  // than this many seconds (docs/clickhouse.md, "Purging deleted rows"). 0: deleted rows stay,
  // filtered by the view (the default, any server).
  int purge_deleted_after_s = 0;
  // The server collects small INSERTs of one table into one part (ClickHouse >= 21.11); pg2ch
  // waits for the server to write them (wait_for_async_insert) before acknowledging anything.
  bool async_insert = false;
  std::string describe() const;         // "user@host:port/db"
};

struct TableSelector {
  std::string pattern;                  // "schema.table" or "schema.*"
  std::string target;                   // ClickHouse table name; empty = same as source table name
  std::vector<std::string> include;     // columns to keep (empty = all)
  std::vector<std::string> exclude;     // columns to drop
  std::string watermark;                // poll/notify: watermark column; empty = poll.watermark
  // Per column, a ClickHouse type instead of the default mapping (`types = { price = "String" }`):
  // for values the default type cannot hold (a numeric NaN has no Decimal).
  std::map<std::string, std::string> types;
  // For a table without a primary key or replica identity index (logical mode: REPLICA IDENTITY
  // FULL): the columns that identify a row, which the target is ordered and collapsed by. Rows
  // with the same values there become one row in ClickHouse.
  std::vector<std::string> key;

  bool operator==(const TableSelector&) const = default;
};

struct BatchConfig {
  std::size_t max_rows = 100000;
  std::size_t max_bytes = 32u << 20;
  std::chrono::milliseconds max_delay{1000};
  // Once the source has sent everything it has (caught up), waiting the full max_delay gains
  // nothing but latency: a batch is flushed this long after its first row instead (if shorter).
  // The floor keeps ClickHouse at a few inserts per second per table under a trickle of changes.
  std::chrono::milliseconds idle_flush{200};
  // The insert budget (pipeline/insert_budget.h): a batch due by time waits until its table's
  // previous INSERT is this long ago (max_delay wins when shorter) ...
  std::chrono::milliseconds table_insert_interval{1000};
  // ... and until one of this many INSERTs a second, for all tables together, is free (0: no limit).
  double max_inserts_per_second = 20;
};

struct LogicalConfig {
  std::string slot = "pg2ch";
  std::string publication = "pg2ch";
  int snapshot_workers = 0;             // 0 = chosen (capture/logical/snapshot_workers.h)
  // The largest block range of a table the initial copy sends as one INSERT (MB of the table):
  // what a copy cut short by a kill copies again (capture/logical/snapshot_progress.h).
  int snapshot_range_mb = 256;
  std::chrono::milliseconds status_interval{10000};
  // A slot holding more WAL than this (MB) is logged as a warning every few minutes (0: never):
  // the server keeps that WAL until pg2ch has confirmed it, and a disk that fills stops the source.
  std::int64_t retained_wal_warn_mb = 1024;
  // Transactions larger than the server's logical_decoding_work_mem are sent while they run
  // (pgoutput protocol 2, PostgreSQL 14+) and wait in a spool file until their commit, instead of
  // being spilled to disk on the source and sent only after it (capture/logical/transaction_spool.h).
  bool streaming = true;
  // Where those spool files live; empty: the state file's directory.
  std::string spool_dir;
  // Per kind of column change a streaming table can follow in place
  // (capture/logical/schema_evolution.h): "evolve" follows it, "stop" stops the table, which is
  // copied again with its new columns at the next start.
  std::string on_column_added = "evolve";
  std::string on_type_widened = "evolve";
  std::string on_not_null_dropped = "evolve";
  std::string on_column_dropped = "evolve";
  std::string on_column_renamed = "evolve";
  // A table dropped at the source while running, every mode (capture/shared/dropped_table.h):
  // "keep" stops it and leaves its target; "drop" drops its target and forgets it.
  std::string on_table_dropped = "keep";
};

// poll and notify: keyset-paginated `WHERE watermark > last` reads (seed routes 1 and 3).
struct PollConfig {
  std::string watermark = "id";         // default watermark column; [[tables]] watermark overrides
  std::size_t batch_size = 10000;       // rows per SELECT page
  std::chrono::milliseconds interval{1000};  // sleep after catching up (poll) / fallback poll (notify)
};

struct NotifyConfig {
  std::string channel = "pg2ch";        // LISTEN channel the setup trigger notifies
  std::string trigger_schema = "pg2ch"; // where the trigger function lives
  std::chrono::milliseconds coalesce{50};    // after a wake-up, wait this long for more notifications
};

// outbox: row changes captured by triggers into an events table, drained by version (WAL position).
struct OutboxConfig {
  std::string schema = "pg2ch";         // holds the events table, trigger functions and progress
  std::string table = "events";
  std::string payload = "key";          // key (fetch current row) | row (to_jsonb(NEW/OLD) in the event)
  // row: a trigger call per changed row, the cheapest for single-row statements (OLTP);
  // statement: a call per statement over its transition table, the cheapest for bulk writes.
  std::string triggers = "row";
  std::size_t batch_size = 10000;       // events claimed per drain transaction
  std::chrono::milliseconds interval{200};   // sleep when the events table is empty
};

// Where changes go. ClickHouse directly, Kafka, or both.
struct KafkaConfig {
  std::string brokers;                  // bootstrap.servers, e.g. "127.0.0.1:9092"
  std::string topic_prefix = "pg2ch";   // topic per table: <prefix>.<schema>.<table>
  std::string topic;                    // when set: one topic for every table (seed: pg-events)
  std::string format = "debezium";      // debezium | key
  std::string group_id = "pg2ch";       // consumer (source = "kafka")
  std::string auto_offset_reset = "earliest";
  // Format debezium: a null-value message after each delete, for log compaction (Debezium's
  // tombstones.on.delete). ClickHouse 18.16's Kafka engine crashes on them: turn off for it.
  bool tombstones = true;
  std::string dead_letter_topic;        // empty = stop on a bad message
  // Consumer: a member silent this long is dropped from the group and its partitions reassigned.
  std::chrono::milliseconds session_timeout{45000};
  // Producer: how long librdkafka retries a message before its delivery fails (pg2ch then stops,
  // unacknowledged, and re-sends after a restart).
  std::chrono::milliseconds message_timeout{300000};
  std::string security_protocol = "plaintext";
  std::string sasl_mechanism;
  std::string sasl_username;
  std::string sasl_password;            // secret: never logged
  std::string sasl_password_file;       // as postgres.password_file
  // security_protocol ssl / sasl_ssl: librdkafka's ssl.ca.location, ssl.certificate.location,
  // ssl.key.location, ssl.key.password.
  std::string ssl_ca_location;
  std::string ssl_certificate_location;
  std::string ssl_key_location;
  std::string ssl_key_password;         // secret: never logged
};

struct StateConfig {
  std::string store = "file";           // file | postgres (table <outbox.schema>.state in the source)
  std::string path = "pg2ch.state";     // local state file (atomic replace + fsync)
};

struct LogConfig {
  std::string level = "info";           // trace|debug|info|warn|error
  std::string format = "text";          // text | json
  // A one-line summary at info this often while running (rows/s per table, lag, batches); 0: none.
  std::chrono::seconds summary_interval{60};
};

// How the process behaves as a service (src/service/).
struct ServiceConfig {
  // A transient error (server away, connection lost) restarts the run after a jittered backoff
  // that starts at retry_initial and doubles up to retry_max; the process stays up.
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{60000};
  // host:port of the HTTP listener for /metrics, /healthz and /readyz; empty: no listener.
  std::string metrics_listen;
  // After SIGTERM/SIGINT the process writes and acknowledges what it holds; when that takes
  // longer than this (a hung server), it exits without acknowledging the rest (read again on the
  // next start).
  std::chrono::milliseconds stop_timeout{30000};
};

struct Config {
  std::string name = "pg2ch";           // pipeline name, used in logs and state keys
  std::string mode = "logical";         // capture: logical | poll | notify | outbox | kafka (consume)
  std::string sink = "clickhouse";      // clickhouse | kafka | both
  PostgresConfig postgres;
  ClickHouseConfig clickhouse;
  std::vector<TableSelector> tables;
  BatchConfig batch;
  LogicalConfig logical;
  PollConfig poll;
  NotifyConfig notify;
  OutboxConfig outbox;
  KafkaConfig kafka;
  StateConfig state;
  LogConfig log;
  ServiceConfig service;

  // Every scalar setting given (by any source), as "section.key" -> the value that won; a secret's
  // value is kept only as a digest. For telling what changed on a reload; never printed.
  std::map<std::string, std::string> given;
  // Things the operator should fix but that do not stop pg2ch (a password file or .env others
  // may read); logged once logging is set up.
  std::vector<std::string> warnings;
};

struct LoadOptions {
  std::optional<std::string> config_path;               // TOML file; optional
  std::optional<std::string> env_file;                  // explicit .env path (must exist)
  bool read_default_env_file = true;                    // read ./.env when env_file not given
  std::map<std::string, std::string> environment;       // usually a snapshot of ::environ
  std::map<std::string, std::string> cli_overrides;     // "section.key" -> value, from --set / flags
};

// Throws pg2ch::Error(ErrorKind::Config) naming the setting and source on any bad value.
Config load(const LoadOptions& options);

// Snapshot of the process environment.
std::map<std::string, std::string> process_environment();

// Parses a .env file: KEY=VALUE lines, optional `export `, '#' comments, single/double quotes.
std::map<std::string, std::string> parse_dotenv(const std::string& text, const std::string& origin);

}  // namespace pg2ch::config
