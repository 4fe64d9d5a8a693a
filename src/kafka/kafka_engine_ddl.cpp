#include "kafka/kafka_engine_ddl.h"

#include <fmt/format.h>

#include "clickhouse/http_client.h"
#include "clickhouse/target_table.h"
#include "common/error.h"
#include "kafka/envelope_sql.h"

namespace pg2ch::kafka {
namespace {

constexpr const char* kMessage = "_pg2ch_message";  // the Kafka table's one column: the whole value
constexpr const char* kRow = "_pg2ch_row";           // the row image the columns are read from

std::string qualified(const std::string& database, const std::string& name) {
  return clickhouse::quote_identifier(database) + "." + clickhouse::quote_identifier(name);
}

std::string topic_of(const config::Config& cfg, const pipeline::TableSchema& table) {
  if (!cfg.kafka.topic.empty()) return cfg.kafka.topic;
  return cfg.kafka.topic_prefix + "." + table.source_schema + "." + table.source_name;
}

// WITH clause: op, lsn, schema/table and the row image out of one envelope.
std::string envelope_aliases(EnvelopeSqlDialect dialect) {
  if (dialect == EnvelopeSqlDialect::JsonExtract) {
    return fmt::format(
        "    JSONExtractString({0}, 'op') AS _pg2ch_op,\n"
        "    JSONExtractUInt({0}, 'source', 'lsn') AS _pg2ch_lsn,\n"
        "    JSONExtractString({0}, 'source', 'schema') AS _pg2ch_schema,\n"
        "    JSONExtractString({0}, 'source', 'table') AS _pg2ch_table,\n"
        "    if(_pg2ch_op = 'd', JSONExtractRaw({0}, 'before'), JSONExtractRaw({0}, 'after')) AS {1}",
        kMessage, kRow);
  }
  // No JSON parser: split {"before":B,"after":A,"source":{"version":..},"op":"c",..} at markers
  // that only the envelope can produce. Inside JSON strings every quote is escaped, and column
  // values are never objects, so `,"source":{"version":` and `,"after":{` occur once; A = null
  // only for deletes, where the head ends with `,"after":null`. The source block has no column
  // names in it, so `"lsn":`, `"schema":`, `"op":` found after it are the envelope's own.
  // 18.16's substring() throws on a computed offset of 0 or a negative length, even for rows the
  // WHERE drops later (tombstones, foreign messages), hence the greatest() guards.
  return fmt::format(
      "    position({0}, ',\"source\":{{\"version\":') AS _pg2ch_source_at,\n"
      "    substring({0}, 1, greatest(_pg2ch_source_at, 1) - 1) AS _pg2ch_head,\n"
      "    substring({0}, greatest(_pg2ch_source_at, 1)) AS _pg2ch_tail,\n"
      "    substring(_pg2ch_tail, position(_pg2ch_tail, ',\"op\":\"') + 7, 1) AS _pg2ch_op,\n"
      "    visitParamExtractUInt(_pg2ch_tail, 'lsn') AS _pg2ch_lsn,\n"
      "    visitParamExtractString(_pg2ch_tail, 'schema') AS _pg2ch_schema,\n"
      "    visitParamExtractString(_pg2ch_tail, 'table') AS _pg2ch_table,\n"
      "    if(_pg2ch_op = 'd',\n"
      "       substring(_pg2ch_head, 11, greatest(length(_pg2ch_head), 23) - 23),\n"  // {"before": … ,"after":null
      "       substring(_pg2ch_head, position(_pg2ch_head, ',\"after\":{{') + 9)) AS {1}",  // ,"after":{ …
      kMessage, kRow);
}

std::string kafka_table_statement(const config::Config& cfg, const pipeline::TableSchema& table,
                                  EnvelopeSqlDialect dialect) {
  const std::string group = cfg.kafka.group_id + "_ch_" + table.target_name;
  std::string sql;
  if (dialect == EnvelopeSqlDialect::VisitParam) {
    sql += "-- ClickHouse before 21.1 has no format that passes a message through untouched: CSV does, as\n"
           "-- long as the server's default profile sets format_csv_delimiter to a tab (compact JSON never\n"
           "-- holds a raw tab). Without it the messages are split at commas. See docs/kafka.md.\n"
           "-- WARNING: 18.16's Kafka engine crashes the server (null pointer) on a tombstone that follows\n"
           "-- another message in one poll: publish with kafka.tombstones = false (see docs/kafka.md).\n";
  }
  sql += fmt::format(
      "CREATE TABLE IF NOT EXISTS {} ({} String)\nENGINE = Kafka\nSETTINGS kafka_broker_list = {},\n"
      "         kafka_topic_list = {},\n         kafka_group_name = {},\n         kafka_format = {}",
      qualified(cfg.clickhouse.database, kafka_table_name(table)), kMessage, clickhouse::quote_string(cfg.kafka.brokers),
      clickhouse::quote_string(topic_of(cfg, table)), clickhouse::quote_string(group),
      dialect == EnvelopeSqlDialect::VisitParam ? "'CSV',\n         kafka_row_delimiter = '\\n'" : "'JSONAsString'");
  return sql;
}

std::string view_statement(const config::Config& cfg, const pipeline::TableSchema& table, EnvelopeSqlDialect dialect) {
  std::string columns;
  for (const auto& c : table.target_columns) {
    columns += fmt::format("    {} AS {},\n", column_value_sql(table, c, dialect, kRow), clickhouse::quote_identifier(c.name));
  }
  columns += fmt::format("    _pg2ch_lsn AS {},\n    toUInt8(_pg2ch_op = 'd') AS {}", pipeline::kVersionColumn,
                         pipeline::kDeletedColumn);
  std::string where = fmt::format("{} != '' AND _pg2ch_op IN ('c', 'u', 'r', 'd')", kMessage);
  if (dialect == EnvelopeSqlDialect::VisitParam) where += " AND _pg2ch_source_at > 0";
  if (!cfg.kafka.topic.empty()) {
    // One topic for every table: keep this table's events.
    where += fmt::format("\n  AND _pg2ch_schema = {} AND _pg2ch_table = {}", clickhouse::quote_string(table.source_schema),
                         clickhouse::quote_string(table.source_name));
  }
  return fmt::format(
      "-- Debezium envelope → target row: c/u/r take `after`, d takes `before` (key columns; the\n"
      "-- others get defaults) with _deleted = 1, _version = source.lsn. Tombstones are skipped.\n"
      "-- TRUNCATE (op \"t\") is skipped too: a materialized view cannot empty its target. After a\n"
      "-- truncate at the source, run TRUNCATE TABLE {} yourself.\n"
      "CREATE MATERIALIZED VIEW IF NOT EXISTS {} TO {} AS\nWITH\n{}\nSELECT\n{}\nFROM {}\nWHERE {}",
      qualified(cfg.clickhouse.database, table.target_name), qualified(cfg.clickhouse.database, kafka_view_name(table)),
      qualified(cfg.clickhouse.database, table.target_name), envelope_aliases(dialect), columns,
      qualified(cfg.clickhouse.database, kafka_table_name(table)), where);
}

}  // namespace

std::string kafka_table_name(const pipeline::TableSchema& table) { return table.target_name + "__kafka"; }
std::string kafka_view_name(const pipeline::TableSchema& table) { return table.target_name + "__kafka_mv"; }

KafkaEngineTableDdl kafka_engine_ddl(const config::Config& cfg, const pipeline::TableSchema& table,
                                     const clickhouse::ServerCapabilities& caps) {
  if (cfg.kafka.format != "debezium")
    throw Error(ErrorKind::Config,
                "kafka.format is \"" + cfg.kafka.format + "\": the Kafka engine recipe reads the Debezium envelope",
                "set kafka.format = \"debezium\" (the key-only format carries no row to insert)");
  if (cfg.kafka.brokers.empty())
    throw Error(ErrorKind::Config, "kafka.brokers is empty: the Kafka engine table needs a broker list",
                "set kafka.brokers (KAFKA_BOOTSTRAP) to the brokers as ClickHouse reaches them");
  // On a cluster each host's Kafka table would consume its own share of the partitions into its
  // own materialized view: a recipe of its own, not written yet.
  if (!cfg.clickhouse.cluster.empty())
    throw Error(ErrorKind::Config,
                "clickhouse.cluster is set: the Kafka engine recipe is written for one ClickHouse server",
                "print it without the cluster setting and adapt it, or let `pg2ch run` with mode = \"kafka\" "
                "consume the topics into the cluster");
  const clickhouse::TargetLayout single_server;
  const auto dialect = envelope_sql_dialect(caps);
  KafkaEngineTableDdl out;
  out.source = table.qualified_source();
  // Column conversions first: an unsupported column fails before anything is printed.
  std::string view = view_statement(cfg, table, dialect);
  out.statements.push_back(clickhouse::create_table_statement(cfg.clickhouse.database, table, caps, single_server));
  for (auto& s : clickhouse::create_view_statements(cfg.clickhouse.database, table, caps, single_server)) {
    out.statements.push_back(std::move(s));
  }
  out.statements.push_back(kafka_table_statement(cfg, table, dialect));
  out.statements.push_back(std::move(view));
  return out;
}

std::string kafka_engine_script(const config::Config& cfg, const std::vector<const pipeline::TableSchema*>& tables,
                                const clickhouse::ServerCapabilities& caps) {
  std::vector<KafkaEngineTableDdl> ddl;
  for (const auto* t : tables) ddl.push_back(kafka_engine_ddl(cfg, *t, caps));
  std::string out = fmt::format(
      "-- pg2ch ddl kafka-engine: ClickHouse {} reading pg2ch's Debezium envelopes from {}\n"
      "-- Apply with clickhouse-client --multiquery. The view starts at the consumer group's committed\n"
      "-- offsets (a new group starts where the server's Kafka settings say, often at the end).\n\n"
      "CREATE DATABASE IF NOT EXISTS {};\n\n",
      caps.version.text.empty() ? "(version unknown)" : caps.version.text, cfg.kafka.brokers,
      clickhouse::quote_identifier(cfg.clickhouse.database));
  for (const auto& t : ddl) {
    out += "-- " + t.source + "\n";
    for (const auto& s : t.statements) out += s + ";\n\n";
  }
  return out;
}

}  // namespace pg2ch::kafka
