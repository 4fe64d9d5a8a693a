#pragma once
// `pg2ch ddl kafka-engine`: prints the ClickHouse Kafka engine recipe (kafka/kafka_engine_ddl.h)
// for the configured tables. Reads the source catalog; asks ClickHouse for its version unless
// --clickhouse-version is given, so the SQL can be generated for a server pg2ch cannot reach.
#include <ostream>
#include <string>
#include <vector>

#include "config/config.h"

namespace pg2ch::cli {

struct KafkaEngineDdlOptions {
  std::vector<std::string> tables;  // "schema.table" or "table"; empty = every configured table
  std::string clickhouse_version;   // "18.16", "23.8.2.7"; empty = SELECT version() on the server
};

void print_kafka_engine_ddl(const config::Config& cfg, const KafkaEngineDdlOptions& options, std::ostream& out);

}  // namespace pg2ch::cli
