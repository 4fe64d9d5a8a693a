// Environment names: the seed's PG_* / CH_* and PG2CH_<SECTION>_<KEY>.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace pg2ch::config {
namespace {

Config load_env(std::map<std::string, std::string> env) {
  auto options = testing::isolated_options();
  if (env.contains("PG2CH_TABLES")) options.cli_overrides.clear();
  options.environment = std::move(env);
  return load(options);
}

TEST(ConfigEnvNames, SeedNames) {
  auto c = load_env({{"PG_HOST", "pg.example"},
                     {"PG_PORT", "6543"},
                     {"PG_DB", "shop"},
                     {"PG_USER", "reader"},
                     {"PG_PASSWORD", "pg-secret"},
                     {"CH_HOST", "ch.example"},
                     {"CH_PORT", "18123"},
                     {"CH_USER", "writer"},
                     {"CH_PASSWORD", "ch-secret"},
                     {"CH_DATABASE", "analytics"}});
  EXPECT_EQ(c.postgres.host, "pg.example");
  EXPECT_EQ(c.postgres.port, 6543);
  EXPECT_EQ(c.postgres.database, "shop");
  EXPECT_EQ(c.postgres.user, "reader");
  EXPECT_EQ(c.postgres.password, "pg-secret");
  EXPECT_EQ(c.clickhouse.host, "ch.example");
  EXPECT_EQ(c.clickhouse.port, 18123);
  EXPECT_EQ(c.clickhouse.user, "writer");
  EXPECT_EQ(c.clickhouse.password, "ch-secret");
  EXPECT_EQ(c.clickhouse.database, "analytics");
}

TEST(ConfigEnvNames, SeedKafkaNames) {
  auto c = load_env({{"KAFKA_BOOTSTRAP", "k1:9092,k2:9092"}, {"KAFKA_TOPIC", "pg-events"},
                     {"KAFKA_GROUP", "pg2click-consumer"}});
  EXPECT_EQ(c.kafka.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(c.kafka.topic, "pg-events");
  EXPECT_EQ(c.kafka.group_id, "pg2click-consumer");
}

TEST(ConfigEnvNames, CaptureModeSections) {
  auto c = load_env({{"PG2CH_MODE", "outbox"},
                     {"PG2CH_SINK", "both"},
                     {"PG2CH_POLL_WATERMARK", "updated_at"},
                     {"PG2CH_POLL_BATCH_SIZE", "500"},
                     {"PG2CH_POLL_INTERVAL_MS", "250"},
                     {"PG2CH_NOTIFY_CHANNEL", "orders_changed"},
                     {"PG2CH_NOTIFY_COALESCE_MS", "20"},
                     {"PG2CH_OUTBOX_PAYLOAD", "row"},
                     {"PG2CH_OUTBOX_BATCH_SIZE", "2000"},
                     {"PG2CH_OUTBOX_TRIGGERS", "statement"},
                     {"PG2CH_KAFKA_FORMAT", "key"},
                     {"PG2CH_STATE_STORE", "postgres"}});
  EXPECT_EQ(c.mode, "outbox");
  EXPECT_EQ(c.sink, "both");
  EXPECT_EQ(c.poll.watermark, "updated_at");
  EXPECT_EQ(c.poll.batch_size, 500u);
  EXPECT_EQ(c.poll.interval.count(), 250);
  EXPECT_EQ(c.notify.channel, "orders_changed");
  EXPECT_EQ(c.notify.coalesce.count(), 20);
  EXPECT_EQ(c.outbox.payload, "row");
  EXPECT_EQ(c.outbox.batch_size, 2000u);
  EXPECT_EQ(c.outbox.triggers, "statement");
  EXPECT_EQ(c.kafka.format, "key");
  EXPECT_EQ(c.state.store, "postgres");
}

TEST(ConfigEnvNames, GenericNames) {
  auto c = load_env({{"PG2CH_NAME", "orders-to-ch"},
                     {"PG2CH_MODE", "logical"},
                     {"PG2CH_POSTGRES_SSLMODE", "require"},
                     {"PG2CH_POSTGRES_CONNECT_TIMEOUT", "3"},
                     {"PG2CH_CLICKHOUSE_SECURE", "yes"},
                     {"PG2CH_CLICKHOUSE_COMPRESSION", "zstd"},
                     {"PG2CH_CLICKHOUSE_TIMEOUT", "60"},
                     {"PG2CH_CLICKHOUSE_CLUSTER", "events-cluster.eu"},
                     {"PG2CH_CLICKHOUSE_DISTRIBUTED", "yes"},
                     {"PG2CH_BATCH_MAX_ROWS", "500"},
                     {"PG2CH_BATCH_MAX_BYTES", "1048576"},
                     {"PG2CH_BATCH_MAX_DELAY_MS", "250"},
                     {"PG2CH_LOGICAL_SLOT", "orders_slot"},
                     {"PG2CH_LOGICAL_PUBLICATION", "orders_pub"},
                     {"PG2CH_LOGICAL_SNAPSHOT_WORKERS", "4"},
                     {"PG2CH_LOGICAL_STATUS_INTERVAL_MS", "5000"},
                     {"PG2CH_STATE_PATH", "/var/lib/pg2ch/orders.state"},
                     {"PG2CH_LOG_LEVEL", "debug"},
                     {"PG2CH_LOG_FORMAT", "json"},
                     {"PG2CH_TABLES", " public.orders , sales.* ,"}});
  EXPECT_EQ(c.name, "orders-to-ch");
  EXPECT_EQ(c.postgres.sslmode, "require");
  EXPECT_EQ(c.postgres.connect_timeout_s, 3);
  EXPECT_TRUE(c.clickhouse.secure);
  EXPECT_EQ(c.clickhouse.compression, "zstd");
  EXPECT_EQ(c.clickhouse.timeout_s, 60);
  EXPECT_EQ(c.clickhouse.cluster, "events-cluster.eu");
  EXPECT_TRUE(c.clickhouse.distributed);
  EXPECT_EQ(c.batch.max_rows, 500u);
  EXPECT_EQ(c.batch.max_bytes, 1048576u);
  EXPECT_EQ(c.batch.max_delay, std::chrono::milliseconds(250));
  EXPECT_EQ(c.logical.slot, "orders_slot");
  EXPECT_EQ(c.logical.publication, "orders_pub");
  EXPECT_EQ(c.logical.snapshot_workers, 4);
  EXPECT_EQ(c.logical.status_interval, std::chrono::milliseconds(5000));
  EXPECT_EQ(c.state.path, "/var/lib/pg2ch/orders.state");
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "json");
  ASSERT_EQ(c.tables.size(), 2u);
  EXPECT_EQ(c.tables[0].pattern, "public.orders");
  EXPECT_EQ(c.tables[1].pattern, "sales.*");
}

TEST(ConfigEnvNames, OtherProgramsVariablesAreIgnored) {
  auto c = load_env({{"HOME", "/root"}, {"PG2CH_TEST_PG_PORT", "1234"}, {"PGPORT", "9999"}});
  EXPECT_EQ(c.postgres.port, 5432);
}

TEST(ConfigEnvNames, TypoInKnownSectionIsRejected) {
  auto e = testing::config_error([] { load_env({{"PG2CH_BATCH_MAX_ROW", "10"}}); });
  EXPECT_NE(std::string(e.what()).find("PG2CH_BATCH_MAX_ROW"), std::string::npos) << e.what();
  EXPECT_NE(e.hint().find("PG2CH_BATCH_MAX_ROWS"), std::string::npos) << e.hint();
}

TEST(ConfigEnvNames, LogSectionDoesNotSwallowLogical) {
  auto e = testing::config_error([] { load_env({{"PG2CH_LOGICAL_SLOTNAME", "x"}}); });
  EXPECT_NE(e.hint().find("[logical]"), std::string::npos) << e.hint();
}

}  // namespace
}  // namespace pg2ch::config
