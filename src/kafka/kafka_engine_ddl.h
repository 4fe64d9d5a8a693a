#pragma once
// `pg2ch ddl kafka-engine`: the ClickHouse side of the PostgreSQL → pg2ch → Kafka → ClickHouse
// route, for each table: the ReplacingMergeTree(_version) target pg2ch's own sink would create,
// a Kafka engine table reading the table's topic, and a materialized view turning each Debezium
// envelope (format "debezium") into a target row:
//   c / u / r  → the `after` row, _deleted = 0
//   d          → the `before` row (its key columns; the others get defaults), _deleted = 1
//   t, tombstones → skipped (a view cannot express TRUNCATE; the SQL says so in a comment)
//   _version   = source.lsn, so at-least-once delivery and re-delivery change nothing.
//
// How the message is read depends on the server (envelope_sql.h):
//   < 21.1 (Debian's 18.16): no JSON functions nor raw-message format. The message is one String
//     column read with kafka_format 'CSV', lossless only when the server's default profile sets
//     format_csv_delimiter to a tab (a raw tab never occurs in compact JSON); the envelope is
//     split at its structural markers and each column read with visitParam*.
//   >= 21.1: kafka_format 'JSONAsString' and JSONExtract*.
// docs/kafka.md ("ClickHouse Kafka engine") describes both for operators.
#include <string>
#include <vector>

#include "clickhouse/server_capabilities.h"
#include "config/config.h"
#include "pipeline/table_schema.h"

namespace pg2ch::kafka {

struct KafkaEngineTableDdl {
  std::string source;                   // schema.table
  std::vector<std::string> statements;  // run in order; each is one SQL statement, comments first
};

// Names the recipe gives the extra ClickHouse objects of a table.
std::string kafka_table_name(const pipeline::TableSchema& table);  // <target>__kafka
std::string kafka_view_name(const pipeline::TableSchema& table);   // <target>__kafka_mv

// Throws Error(Config) for a config the recipe cannot serve (format "key", no brokers) and
// Error(Schema) naming table.column for a column this server cannot convert.
KafkaEngineTableDdl kafka_engine_ddl(const config::Config& cfg, const pipeline::TableSchema& table,
                                     const clickhouse::ServerCapabilities& caps);

// Every table's statements as one script for clickhouse-client --multiquery: statements end with
// ";" and a blank line.
std::string kafka_engine_script(const config::Config& cfg, const std::vector<const pipeline::TableSchema*>& tables,
                                const clickhouse::ServerCapabilities& caps);

}  // namespace pg2ch::kafka
