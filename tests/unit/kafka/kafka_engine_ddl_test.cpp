// The SQL of `pg2ch ddl kafka-engine` per ClickHouse version and per type. Whether ClickHouse
// 18.16 accepts and runs it is the integration test's job (kafka/kafka_engine_test.cpp).
#include "kafka/kafka_engine_ddl.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "kafka/envelope_sql.h"
#include "kafka_test_support.h"

namespace pg2ch::kafka {
namespace {

namespace oid = types::oid;
using test::pg_type;

clickhouse::ServerCapabilities caps(const char* version) {
  return clickhouse::ServerCapabilities::from_version(clickhouse::parse_server_version(version));
}

struct Col {
  std::string name;
  types::PgTypeDesc type;
  bool key = false;
  bool not_null = false;
};

// Like pg::describe_table: every column replicated, mapped for the given server.
pipeline::TableSchema table(const std::vector<Col>& cols, const clickhouse::ServerCapabilities& c) {
  pipeline::TableSchema t;
  t.source_schema = "public";
  t.source_name = "items";
  t.target_name = "items";
  for (const auto& col : cols) {
    pipeline::SourceColumn sc{col.name, col.type, col.not_null || col.key, col.key,
                              static_cast<int>(t.target_columns.size())};
    pipeline::TargetColumn tc;
    tc.name = col.name;
    tc.source_index = static_cast<int>(t.source_columns.size());
    tc.is_key = col.key;
    tc.mapping = types::map_column(col.type, sc.not_null, c, "public.items", col.name);
    if (col.key) t.key_target_indexes.push_back(sc.target_index);
    t.target_columns.push_back(std::move(tc));
    t.source_columns.push_back(std::move(sc));
  }
  return t;
}

config::Config config_for_test() {
  config::Config cfg;
  cfg.clickhouse.database = "shop";
  cfg.kafka.brokers = "kafka1:9092,kafka2:9092";
  cfg.kafka.group_id = "pg2ch";
  return cfg;
}

std::string column_sql(const Col& col, const char* version) {
  const auto c = caps(version);
  const auto t = table({{"id", pg_type(oid::kInt4), true}, col}, c);
  return column_value_sql(t, t.target_columns[1], envelope_sql_dialect(c), "_pg2ch_row");
}

std::string joined(const KafkaEngineTableDdl& d) {
  std::string s;
  for (const auto& x : d.statements) s += x + ";\n";
  return s;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(KafkaEngineDdl, OldServerReadsRawCsvAndSplitsTheEnvelope) {
  const auto c = caps("18.16.1");
  const auto t = table({{"id", pg_type(oid::kInt4), true}, {"note", pg_type(oid::kText)}}, c);
  const std::string sql = joined(kafka_engine_ddl(config_for_test(), t, c));
  EXPECT_TRUE(has(sql, "CREATE TABLE IF NOT EXISTS `shop`.`items` (")) << sql;
  EXPECT_TRUE(has(sql, "ENGINE = ReplacingMergeTree(_version)")) << "the sink's own target DDL";
  EXPECT_TRUE(has(sql, "CREATE TABLE IF NOT EXISTS `shop`.`items__kafka` (_pg2ch_message String)\nENGINE = Kafka"));
  EXPECT_TRUE(has(sql, "kafka_broker_list = 'kafka1:9092,kafka2:9092'"));
  EXPECT_TRUE(has(sql, "kafka_topic_list = 'pg2ch.public.items'"));
  EXPECT_TRUE(has(sql, "kafka_group_name = 'pg2ch_ch_items'"));
  EXPECT_TRUE(has(sql, "kafka_format = 'CSV'"));
  EXPECT_TRUE(has(sql, "kafka_row_delimiter = '\\n'"));
  EXPECT_TRUE(has(sql, "format_csv_delimiter")) << "the server setting it needs is named in the SQL";
  EXPECT_TRUE(has(sql, "CREATE MATERIALIZED VIEW IF NOT EXISTS `shop`.`items__kafka_mv` TO `shop`.`items` AS"));
  EXPECT_TRUE(has(sql, "position(_pg2ch_message, ',\"source\":{\"version\":') AS _pg2ch_source_at"));
  EXPECT_TRUE(has(sql, "visitParamExtractString(_pg2ch_row, 'note')"));
  EXPECT_TRUE(has(sql, "_pg2ch_lsn AS _version"));
  EXPECT_TRUE(has(sql, "toUInt8(_pg2ch_op = 'd') AS _deleted"));
  EXPECT_TRUE(has(sql, "_pg2ch_op IN ('c', 'u', 'r', 'd')")) << "t and anything else skipped";
  EXPECT_TRUE(has(sql, "TRUNCATE")) << "the truncate limit is stated in the SQL";
  EXPECT_FALSE(has(sql, "JSONExtract"));
  EXPECT_FALSE(has(sql, "_pg2ch_schema = ")) << "a topic per table needs no filter";
}

TEST(KafkaEngineDdl, ModernServerUsesJsonAsStringAndJsonExtract) {
  const auto c = caps("23.8.2.7");
  const auto t = table({{"id", pg_type(oid::kInt4), true}, {"note", pg_type(oid::kText)}}, c);
  const std::string sql = joined(kafka_engine_ddl(config_for_test(), t, c));
  EXPECT_TRUE(has(sql, "kafka_format = 'JSONAsString'")) << sql;
  EXPECT_TRUE(has(sql, "JSONExtractUInt(_pg2ch_message, 'source', 'lsn') AS _pg2ch_lsn"));
  EXPECT_TRUE(has(sql, "JSONExtractString(_pg2ch_row, 'note')"));
  EXPECT_TRUE(has(sql, "ReplacingMergeTree(_version, _deleted)"));
  EXPECT_FALSE(has(sql, "visitParam"));
  EXPECT_FALSE(has(sql, "format_csv_delimiter"));
}

TEST(KafkaEngineDdl, SharedTopicFiltersOnSourceTable) {
  auto cfg = config_for_test();
  cfg.kafka.topic = "pg-events";
  const auto c = caps("18.16.1");
  const std::string sql = joined(kafka_engine_ddl(cfg, table({{"id", pg_type(oid::kInt4), true}}, c), c));
  EXPECT_TRUE(has(sql, "kafka_topic_list = 'pg-events'"));
  EXPECT_TRUE(has(sql, "_pg2ch_schema = 'public' AND _pg2ch_table = 'items'")) << sql;
}

TEST(KafkaEngineDdl, KeyFormatAndMissingBrokersAreConfigErrors) {
  const auto c = caps("18.16.1");
  const auto t = table({{"id", pg_type(oid::kInt4), true}}, c);
  auto cfg = config_for_test();
  cfg.kafka.format = "key";
  EXPECT_THROW(kafka_engine_ddl(cfg, t, c), Error);
  cfg = config_for_test();
  cfg.kafka.brokers.clear();
  EXPECT_THROW(kafka_engine_ddl(cfg, t, c), Error);
  cfg = config_for_test();
  cfg.clickhouse.cluster = "events";  // the recipe is for one server (docs/clickhouse.md#clusters)
  EXPECT_THROW(kafka_engine_ddl(cfg, t, c), Error);
}

TEST(KafkaEngineDdl, ScalarConversionsOn18_16) {
  const char* v = "18.16.1";
  EXPECT_EQ(column_sql({"n", pg_type(oid::kInt8), false, true}, v),
            "toInt64(if(visitParamExtractRaw(_pg2ch_row, 'n') = 'null', '0', visitParamExtractRaw(_pg2ch_row, 'n')))");
  EXPECT_EQ(column_sql({"n", pg_type(oid::kInt4)}, v),
            "if(visitParamExtractRaw(_pg2ch_row, 'n') = 'null', NULL, toInt32(if(visitParamExtractRaw(_pg2ch_row, 'n') "
            "= 'null', '0', visitParamExtractRaw(_pg2ch_row, 'n'))))");
  // numeric(12,2): typmod = ((12 << 16) | 2) + 4
  EXPECT_TRUE(has(column_sql({"p", pg_type(oid::kNumeric, (12 << 16 | 2) + 4)}, v), "CAST(if(") &&
              has(column_sql({"p", pg_type(oid::kNumeric, (12 << 16 | 2) + 4)}, v), "AS Decimal(12, 2))"));
  EXPECT_TRUE(has(column_sql({"p", pg_type(oid::kNumeric)}, v), "visitParamExtractString(_pg2ch_row, 'p')"));
  EXPECT_TRUE(has(column_sql({"b", pg_type(oid::kBool)}, v), "toUInt8(if(")) << "bool is UInt8 on 18.16";
  EXPECT_TRUE(has(column_sql({"d", pg_type(oid::kDate)}, v), "AS Date)"));
  EXPECT_TRUE(has(column_sql({"ts", pg_type(oid::kTimestamp, 3)}, v), "* 1000)")) << "timestamp(3) is milliseconds";
  EXPECT_FALSE(has(column_sql({"ts", pg_type(oid::kTimestamp)}, v), "* 1000)")) << "timestamp is microseconds";
  EXPECT_TRUE(has(column_sql({"tz", pg_type(oid::kTimestampTz)}, v), "parseDateTimeBestEffort("));
  EXPECT_TRUE(has(column_sql({"f", pg_type(oid::kFloat8)}, v), "toFloat64(") &&
              has(column_sql({"f", pg_type(oid::kFloat8)}, v), "replaceAll(")) << "NaN arrives quoted";
  EXPECT_TRUE(has(column_sql({"m", pg_type(oid::kMoney)}, v), "toInt64(replaceOne("));
  EXPECT_TRUE(has(column_sql({"u", pg_type(oid::kUuid)}, v), "toUUID("));
  EXPECT_TRUE(has(column_sql({"a", test::array_of(oid::kInt4)}, v), "CAST(replaceAll(if(visitParamExtractRaw(_pg2ch_row, 'a') = 'null', '[]'"));
}

TEST(KafkaEngineDdl, ScalarConversionsOnModernServers) {
  const char* v = "24.3.1";
  EXPECT_TRUE(has(column_sql({"b", pg_type(oid::kBool)}, v), "AS Bool)"));
  EXPECT_TRUE(has(column_sql({"d", pg_type(oid::kDate)}, v), "addDays(toDate32('1970-01-01')"));
  EXPECT_TRUE(has(column_sql({"ts", pg_type(oid::kTimestamp)}, v), "fromUnixTimestamp64Micro("));
  EXPECT_TRUE(has(column_sql({"tz", pg_type(oid::kTimestampTz)}, v), "parseDateTime64BestEffort("));
  EXPECT_TRUE(has(column_sql({"x", pg_type(oid::kBytea)}, v), "base64Decode(JSONExtractString(") ||
              has(column_sql({"x", pg_type(oid::kBytea)}, v), "base64Decode(if("));
  EXPECT_TRUE(has(column_sql({"a", test::array_of(oid::kText)}, v), "JSONExtract(if(")) << "text arrays too";
}

TEST(KafkaEngineDdl, UnconvertibleColumnNamesTableColumnAndExclude) {
  for (const auto& [col, version] : std::vector<std::pair<Col, const char*>>{
           {{"blob", pg_type(oid::kBytea)}, "18.16.1"},           // no base64Decode
           {{"blob", test::array_of(oid::kText)}, "18.16.1"},     // JSON string escapes in an array
           {{"blob", pg_type(oid::kTimestamp)}, "20.3.1"},        // DateTime64 target, old functions
       }) {
    try {
      column_sql(col, version);
      ADD_FAILURE() << "expected an error on " << version;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Schema);
      EXPECT_TRUE(has(e.one_line(), "public.items.blob")) << e.one_line();
      EXPECT_TRUE(has(e.one_line(), "exclude = [\"blob\"]")) << e.one_line();
    }
  }
}

TEST(KafkaEngineDdl, OldServerRefusesNamesJsonWouldEscape) {
  EXPECT_THROW(column_sql({"we\"ird", pg_type(oid::kInt4)}, "18.16.1"), Error);
  EXPECT_NO_THROW(column_sql({"we\"ird", pg_type(oid::kInt4)}, "23.8"));
}

TEST(KafkaEngineDdl, ScriptEndsStatementsForMultiquery) {
  const auto c = caps("18.16.1");
  const auto t = table({{"id", pg_type(oid::kInt4), true}}, c);
  const std::string script = kafka_engine_script(config_for_test(), {&t}, c);
  EXPECT_TRUE(has(script, "CREATE DATABASE IF NOT EXISTS `shop`;\n\n"));
  EXPECT_TRUE(has(script, "-- public.items\n"));
  EXPECT_EQ(script.substr(script.size() - 3), ";\n\n");
}

}  // namespace
}  // namespace pg2ch::kafka
