// Rough rates of the Kafka route on this machine (printed, not asserted beyond sanity): the
// producer alone (KafkaChangeSink → mock broker, until every delivery report is in) and the
// logical capture end to end with sink = kafka vs sink = clickhouse.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "kafka/kafka_change_sink.h"
#include "support/kafka_broker.h"
#include "support/pipeline_runner.h"
#include "support/test_config.h"
#include "support/test_database.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

TEST(KafkaThroughput, ProducerAlone) {
  KafkaBroker broker;
  broker.create_topic("pg2ch.public.t", 3);
  config::KafkaConfig cfg;
  cfg.brokers = broker.bootstrap();
  kafka::KafkaChangeSink sink(cfg, {"bench", "db"});
  pipeline::TableSchema table;
  table.source_schema = "public";
  table.source_name = "t";
  const std::pair<const char*, std::uint32_t> columns[] = {{"id", 23}, {"name", 25}, {"value", 701}};
  for (const auto& [name, type_oid] : columns) {
    pipeline::SourceColumn c;
    c.name = name;
    c.type.oid = type_oid;
    c.is_key = type_oid == 23;
    c.target_index = static_cast<int>(table.source_columns.size());
    table.source_columns.push_back(c);
  }
  table.target_columns.resize(3);
  for (int i = 0; i < 3; ++i) table.target_columns[static_cast<std::size_t>(i)].source_index = i;
  table.key_target_indexes = {0};

  constexpr int kRows = 200000;
  const auto start = Clock::now();
  for (int tx = 0; tx < kRows / 1000; ++tx) {
    sink.begin_transaction();
    for (int i = 0; i < 1000; ++i) {
      const std::uint32_t id = __builtin_bswap32(static_cast<std::uint32_t>(tx * 1000 + i));
      const std::uint64_t v = __builtin_bswap64(0x3fe0000000000000ULL);
      const pipeline::ValueRef row[] = {pipeline::ValueRef::binary({reinterpret_cast<const char*>(&id), 4}),
                                        pipeline::ValueRef::binary("some name"),
                                        pipeline::ValueRef::binary({reinterpret_cast<const char*>(&v), 8})};
      sink.insert(table, row, static_cast<std::uint64_t>(tx + 1) * 1000);
    }
    sink.commit_transaction(static_cast<std::uint64_t>(tx + 1) * 1000 + 1);
    sink.poll();
  }
  ASSERT_TRUE(wait_until([&] {
    sink.poll();
    return sink.durable_position() == static_cast<std::uint64_t>(kRows) + 1;
  }, 120s, 5ms));
  const double s = seconds_since(start);
  std::printf("[ measure  ] Kafka producer alone: %d messages in %.2f s = %.0f messages/s\n", kRows, s, kRows / s);
  RecordProperty("producer_messages_per_s", static_cast<int>(kRows / s));
}

double end_to_end(const std::string& sink, int rows) {
  auto db = make_test_database(sink);
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  KafkaBroker broker;
  broker.create_topic("pg2ch.public.source_table", 3);
  auto cfg = make_test_config(db, {"public.source_table"});
  cfg.sink = sink;
  cfg.kafka.brokers = broker.bootstrap();
  cfg.log.level = "info";
  PipelineRunner runner(cfg);
  const std::string slot = db.name();
  EXPECT_TRUE(wait_until([&] {
    return db.pg_rows("SELECT count(*) FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid "
                      "WHERE s.slot_name = '" + slot + "' AND r.state = 'streaming'") == Rows{{"1"}};
  }, 60s));
  db.pg_exec("INSERT INTO source_table SELECT g, 'name ' || g, g * 0.5 FROM generate_series(1, " +
             std::to_string(rows) + ") g");
  const auto start = Clock::now();
  const std::string end = db.pg_rows("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")[0][0];
  EXPECT_TRUE(wait_until([&] {
    return db.pg_rows("SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::bigint >= " + end +
                      " FROM pg_replication_slots WHERE slot_name = '" + slot + "'") == Rows{{"t"}};
  }, 300s, 20ms));
  const double s = seconds_since(start);
  runner.stop();
  return s;
}

TEST(KafkaThroughput, LogicalCaptureKafkaVsClickHouse) {
  constexpr int kRows = 100000;
  const double kafka_s = end_to_end("kafka", kRows);
  const double ch_s = end_to_end("clickhouse", kRows);
  std::printf("[ measure  ] 1 transaction of %d inserts, commit → slot confirmed: sink=kafka %.2f s (%.0f changes/s), "
              "sink=clickhouse %.2f s (%.0f changes/s)\n",
              kRows, kafka_s, kRows / kafka_s, ch_s, kRows / ch_s);
}

}  // namespace
}  // namespace pg2ch::test
