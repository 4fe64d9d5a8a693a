// Table states in mode = "kafka" (capture/kafka_consumer/table_offsets.h): a value a table's
// target cannot hold stops that table only, while the others keep being applied and committed;
// a start with the same config keeps it stopped; a start whose config entry for it changed
// reads its skipped messages again from the offsets it recorded, and it ends equal to its
// source. Real PostgreSQL → pg2ch (logical, sink = kafka) → mock broker → pg2ch (mode = kafka)
// → ClickHouse.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/free_port.h"
#include "support/kafka_broker.h"
#include "support/metrics_scrape.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// `pg2ch status --json`, which exits 3 while a table needs attention.
rapidjson::Document status_of(const TestDatabase& db, const config::Config& cfg, const std::string& tag) {
  auto status = pg2ch_cli(db, write_config_file(cfg, db.dir() / (tag + ".toml")), {"status", "--json"}, tag);
  const int code = status.wait(60s).value_or(-1);
  if (code != 0 && code != 3) throw std::runtime_error("status --json: " + status.describe());
  rapidjson::Document d;
  d.Parse(status.stdout_text().c_str());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("status --json printed: " + status.stdout_text());
  return d;
}

struct TableRow {
  std::string state;
  std::string last_error;
};

TableRow table_row(const rapidjson::Document& d, const std::string& table) {
  for (const auto& t : d["tables"].GetArray()) {
    if (t["table"].GetString() == table) return {t["state"].GetString(), t["last_error"].GetString()};
  }
  return {"(not listed)", ""};
}

// The two ends of the route for `tables`: a producer (logical, sink kafka, debezium events) and a
// consumer (mode kafka, its own group and state file). Topics are the caller's to create.
struct RouteConfigs {
  config::Config producer;
  config::Config consumer;
};
RouteConfigs route_configs(const TestDatabase& db, const KafkaBroker& broker, const std::vector<std::string>& tables) {
  RouteConfigs r{make_test_config(db, tables), make_test_config(db, tables)};
  r.producer.sink = "kafka";
  r.producer.kafka.brokers = broker.bootstrap();
  r.producer.kafka.format = "debezium";
  r.consumer.mode = "kafka";
  r.consumer.kafka.brokers = broker.bootstrap();
  r.consumer.kafka.group_id = db.name();
  r.consumer.kafka.session_timeout = 6s;  // the mock broker holds a rebalance until a departed member expires
  r.consumer.state.path = (db.dir() / "consumer.state").string();
  return r;
}

TEST(KafkaConsumerTableStates, ABadValueStopsOnlyItsTableAndAChangedConfigReadsItsMessagesAgain) {
  auto db = make_test_database();
  KafkaBroker broker;
  db.pg_exec("CREATE TABLE prices (id int PRIMARY KEY, price numeric(10,2))");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("CREATE TABLE third (id int PRIMARY KEY, n int)");
  db.pg_exec("INSERT INTO prices VALUES (1, 1.5)");
  db.pg_exec("INSERT INTO other VALUES (1, 'a')");
  db.pg_exec("INSERT INTO third VALUES (1, 1)");
  const std::vector<std::string> tables = {"public.prices", "public.other", "public.third"};
  auto [producer, consumer] = route_configs(db, broker, tables);
  // Two partitions: the stopped table's messages are skipped on both, each recorded.
  for (const auto& t : tables) broker.create_topic("pg2ch." + t, 2);
  const int port = free_loopback_port();
  consumer.service.metrics_listen = "127.0.0.1:" + std::to_string(port);

  const TableQuery prices{"SELECT id, price FROM prices ORDER BY id",
                          "SELECT id, price FROM prices FINAL WHERE _deleted = 0 ORDER BY id"};
  const auto other = same_columns("other", "id, v", "id");
  const auto third = same_columns("third", "id, n", "id");
  PipelineRunner prod(producer);
  prod.wait_ready();
  const auto config_file = write_config_file(consumer, db.dir() / "consumer.toml");
  {
    auto cons = pg2ch_cli(db, config_file, {"run"}, "consumer1");
    ASSERT_TRUE(wait_equal(db, prices)) << cons.describe();
    ASSERT_TRUE(wait_equal(db, other)) << cons.describe();
    ASSERT_TRUE(wait_equal(db, third)) << cons.describe();

    // A Decimal(10, 2) cannot hold NaN. The rows before it in the same transaction reach the
    // consumer with it, on both partitions, and are still buffered when it fails: the stop
    // discards them too, so they must count as skipped.
    db.pg_exec("BEGIN; INSERT INTO prices SELECT g, g FROM generate_series(100, 160) g; "
               "INSERT INTO prices VALUES (2, 'NaN'); COMMIT");
    db.pg_exec("INSERT INTO other VALUES (2, 'b')");
    db.pg_exec("INSERT INTO prices SELECT g, g FROM generate_series(3, 40) g");
    db.pg_exec("UPDATE prices SET price = 2.5 WHERE id = 1");
    db.pg_exec("BEGIN; INSERT INTO other VALUES (3, 'c'); INSERT INTO prices VALUES (41, 4); "
               "INSERT INTO third VALUES (2, 2); COMMIT");
    db.pg_exec("INSERT INTO third SELECT g, g FROM generate_series(3, 100) g");
    db.pg_exec("UPDATE other SET v = 'bb' WHERE id = 2");
    ASSERT_TRUE(wait_equal(db, other)) << "the other tables are applied on: " << cons.describe();
    ASSERT_TRUE(wait_equal(db, third)) << cons.describe();
    ASSERT_TRUE(cons.running()) << "the consumer goes on: " << cons.describe();

    const auto status = status_of(db, consumer, "status-stopped");
    const TableRow row = table_row(status, "public.prices");
    EXPECT_EQ(row.state, "stopped");
    for (const char* part : {"price", "public.prices", "id=2", "NaN", "pg2ch.public.prices["}) {
      EXPECT_NE(row.last_error.find(part), std::string::npos) << part << " in: " << row.last_error;
    }
    EXPECT_EQ(table_row(status, "public.other").state, "streaming");
    EXPECT_EQ(table_row(status, "public.third").state, "streaming");
    ASSERT_EQ(status["attention"].Size(), 1u);
    const std::string attention = status["attention"][0].GetString();
    EXPECT_NE(attention.find(R"(types = { "price" = "String" })"), std::string::npos) << attention;
    EXPECT_NE(attention.find("restart pg2ch"), std::string::npos) << attention;
    EXPECT_TRUE(wait_until([&] { return table_state_metric(port, "public.prices", "stopped") == 1.0; }, 30s))
        << "pg2ch_table_state{state=\"stopped\"} for public.prices";
    EXPECT_EQ(table_state_metric(port, "public.prices", "streaming"), 0.0);
    EXPECT_EQ(table_state_metric(port, "public.other", "streaming"), 1.0);
    // Nothing of the stopped table after the bad value was written.
    EXPECT_EQ(db.ch_rows("SELECT count() FROM prices FINAL WHERE id >= 2"), (Rows{{"0"}}));
    EXPECT_EQ(db.ch_rows("SELECT price FROM prices FINAL WHERE id = 1"), (Rows{{"1.50"}}));
    EXPECT_EQ(cons.stop(), 0) << cons.describe();
  }

  // The same config again: the table stays stopped, its messages skipped; the others go on.
  db.pg_exec("INSERT INTO prices VALUES (42, 42)");
  db.pg_exec("INSERT INTO other VALUES (4, 'd')");
  {
    auto cons = pg2ch_cli(db, config_file, {"run"}, "consumer2");
    ASSERT_TRUE(wait_equal(db, other)) << cons.describe();
    ASSERT_TRUE(cons.running()) << cons.describe();
    EXPECT_EQ(table_row(status_of(db, consumer, "status-same-config"), "public.prices").state, "stopped");
    EXPECT_EQ(db.ch_rows("SELECT count() FROM prices FINAL WHERE id >= 2"), (Rows{{"0"}}));
    EXPECT_EQ(cons.stop(), 0) << cons.describe();
  }

  // The fix the status names: the column as String, in the config and in the target (a start
  // that finds the target differing from the config keeps that table stopped, naming the ALTER,
  // while the others consume on). The table reads its topic again from the offsets it recorded
  // and ends equal, NaN and all; the others go on.
  config::TableSelector prices_as_text;
  prices_as_text.pattern = "public.prices";
  prices_as_text.types = {{"price", "String"}};
  consumer.tables = {prices_as_text, consumer.tables[1], consumer.tables[2]};
  const auto fixed_file = write_config_file(consumer, db.dir() / "fixed.toml");
  db.pg_exec("INSERT INTO other VALUES (5, 'e')");
  {
    auto unfit = pg2ch_cli(db, fixed_file, {"run"}, "consumer-unfit");
    ASSERT_TRUE(wait_equal(db, other)) << unfit.describe();
    const auto prices = table_row(status_of(db, consumer, "status-unfit"), "public.prices");
    EXPECT_EQ(prices.state, "stopped");
    EXPECT_NE(prices.last_error.find("does not fit"), std::string::npos) << prices.last_error;
    EXPECT_NE(unfit.stderr_text().find("MODIFY COLUMN `price` Nullable(String)"), std::string::npos)
        << unfit.describe();
    EXPECT_EQ(unfit.stop(), 0) << unfit.describe();
  }
  db.ch_exec("ALTER TABLE prices MODIFY COLUMN price Nullable(String)");
  auto cons = pg2ch_cli(db, fixed_file, {"run"}, "consumer3");
  const TableQuery prices_text{"SELECT id, price::text FROM prices ORDER BY id",
                               "SELECT id, price FROM prices FINAL WHERE _deleted = 0 ORDER BY id"};
  ASSERT_TRUE(wait_equal(db, prices_text)) << cons.describe();
  ASSERT_TRUE(wait_equal(db, other)) << cons.describe();
  ASSERT_TRUE(wait_equal(db, third)) << cons.describe();
  EXPECT_TRUE(wait_until(
      [&] { return table_row(status_of(db, consumer, "status-fixed"), "public.prices").state == "streaming"; }, 60s))
      << cons.describe();
  db.pg_exec("INSERT INTO prices VALUES (43, 'NaN')");
  db.pg_exec("DELETE FROM prices WHERE id = 1");
  db.pg_exec("UPDATE third SET n = -n WHERE id % 3 = 0");
  ASSERT_TRUE(wait_equal(db, prices_text)) << cons.describe();
  ASSERT_TRUE(wait_equal(db, third)) << cons.describe();
  EXPECT_EQ(table_state_metric(port, "public.prices", "streaming"), 1.0);
  EXPECT_EQ(cons.stop(), 0) << cons.describe();
  prod.stop();
}

// One topic for every table (kafka.topic): resuming the stopped table reads the other table's
// messages again too, which were applied the first time and are not applied again. Applied again,
// its rows from before its TRUNCATE would come back (the truncate is no versioned row that a
// newer version replaces), and the truncate applied again would wait at the truncate barrier for
// the other partition forever: every message of the stopped table has one key, so only one
// partition is read again.
TEST(KafkaConsumerTableStates, OnASharedTopicTheOtherTablesMessagesReadAgainChangeNothing) {
  auto db = make_test_database();
  KafkaBroker broker;
  db.pg_exec("CREATE TABLE prices (id int PRIMARY KEY, price numeric(10,2))");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO other SELECT g, 'a' || g FROM generate_series(1, 50) g");
  const std::vector<std::string> tables = {"public.prices", "public.other"};
  auto [producer, consumer] = route_configs(db, broker, tables);
  producer.kafka.topic = consumer.kafka.topic = "pg2ch.shared";
  broker.create_topic("pg2ch.shared", 2);

  const auto other = same_columns("other", "id, v", "id");
  PipelineRunner prod(producer);
  prod.wait_ready();
  {
    PipelineRunner cons(consumer);
    ASSERT_TRUE(wait_equal(db, other));
    db.pg_exec("INSERT INTO prices VALUES (2, 'NaN')");
    db.pg_exec("INSERT INTO other SELECT g, 'b' || g FROM generate_series(51, 100) g");
    db.pg_exec("UPDATE prices SET price = 3 WHERE id = 2");
    db.pg_exec("UPDATE other SET v = 'u' || id WHERE id % 4 = 0");
    db.pg_exec("TRUNCATE other");
    db.pg_exec("INSERT INTO other SELECT g, 'c' || g FROM generate_series(200, 260) g");
    db.pg_exec("DELETE FROM other WHERE id % 5 = 0");
    ASSERT_TRUE(wait_equal(db, other)) << "the other table is applied on, its truncate once";
    EXPECT_EQ(table_row(status_of(db, consumer, "status-stopped"), "public.prices").state, "stopped");
    EXPECT_FALSE(cons.failed()) << cons.describe();
    cons.stop();
  }

  config::TableSelector prices_as_text;
  prices_as_text.pattern = "public.prices";
  prices_as_text.types = {{"price", "String"}};
  consumer.tables = {prices_as_text, consumer.tables[1]};
  db.ch_exec("ALTER TABLE prices MODIFY COLUMN price Nullable(String)");
  PipelineRunner cons(consumer);
  const TableQuery prices_text{"SELECT id, price::text FROM prices ORDER BY id",
                               "SELECT id, price FROM prices FINAL WHERE _deleted = 0 ORDER BY id"};
  ASSERT_TRUE(wait_equal(db, prices_text)) << cons.describe();
  ASSERT_TRUE(wait_equal(db, other)) << cons.describe();
  // Both partitions still move: rows of the other table on each of them arrive.
  db.pg_exec("INSERT INTO other SELECT g, 'd' || g FROM generate_series(300, 360) g");
  db.pg_exec("UPDATE prices SET price = 'NaN' WHERE id = 2");
  ASSERT_TRUE(wait_equal(db, other)) << cons.describe();
  ASSERT_TRUE(wait_equal(db, prices_text)) << cons.describe();
  EXPECT_TRUE(wait_until(
      [&] { return table_row(status_of(db, consumer, "status-fixed"), "public.prices").state == "streaming"; }, 60s));
  EXPECT_FALSE(cons.failed()) << cons.describe();
  cons.stop();
  prod.stop();
}

// The broker deleted (retention, here the mock broker's size cap) the stopped table's messages
// from its recorded offset on: the fixed start cannot read them again, and it stops with the
// lost range (kafka/offset_gap.h) instead of going on from what the broker still has.
TEST(KafkaConsumerTableStates, SkippedMessagesTheBrokerNoLongerHasStopTheResumingStart) {
  auto db = make_test_database();
  KafkaBroker broker;
  db.pg_exec("CREATE TABLE prices (id int PRIMARY KEY, price numeric(10,2), note text)");
  db.pg_exec("INSERT INTO prices SELECT g, g, 'n' FROM generate_series(1, 100) g");
  auto [producer, consumer] = route_configs(db, broker, {"public.prices"});
  const std::string topic = "pg2ch.public.prices";
  broker.create_topic(topic, 1);
  const auto prices = same_columns("prices", "id, note", "id");
  PipelineRunner prod(producer);
  prod.wait_ready();
  {
    PipelineRunner cons(consumer);
    ASSERT_TRUE(wait_equal(db, prices));
    db.pg_exec("INSERT INTO prices VALUES (200, 'NaN', 'n')");  // offset 100
    ASSERT_TRUE(wait_until([&] { return table_row(status_of(db, consumer, "status"), "public.prices").state == "stopped"; },
                           60s));
    cons.stop();
  }
  // About 15 MB the producer's lz4 cannot shrink much: far more than the broker keeps.
  std::string noise = "md5(random()::text)";
  for (int i = 1; i < 60; ++i) noise += " || md5(random()::text)";
  constexpr int kRounds = 150;
  for (int i = 0; i < kRounds; ++i) db.pg_exec("UPDATE prices SET note = " + noise + " WHERE id > 50 AND id <= 100");
  ASSERT_TRUE(wait_until([&] { return broker.watermarks(topic, 0).second >= 101 + kRounds * 50; }, 120s));
  const auto low = broker.watermarks(topic, 0).first;
  ASSERT_GT(low, 100) << "the skipped messages must be gone; make the updates larger if this fails";

  config::TableSelector prices_as_text;
  prices_as_text.pattern = "public.prices";
  prices_as_text.types = {{"price", "String"}};
  consumer.tables = {prices_as_text};
  db.ch_exec("ALTER TABLE prices MODIFY COLUMN price Nullable(String)");
  auto fixed = pg2ch_cli(db, write_config_file(consumer, db.dir() / "fixed.toml"), {"run"}, "fixed");
  ASSERT_EQ(fixed.wait(60s), 5) << "a stop that needs the operator (exit 5): " << fixed.describe();
  EXPECT_NE(fixed.stderr_text().find(fmt::format("{}[0] offsets 100..{}", topic, low - 1)), std::string::npos)
      << fixed.describe();
  EXPECT_EQ(db.ch_rows("SELECT count() FROM prices FINAL WHERE _deleted = 0"), (Rows{{"100"}}))
      << "nothing after the lost range applied";
  auto again = pg2ch_cli(db, write_config_file(consumer, db.dir() / "fixed.toml"), {"run"}, "fixed-again");
  ASSERT_EQ(again.wait(60s), 5) << "every start stops there: " << again.describe();

  // The recovery docs/kafka.md#lost-messages gives: the producer copies the table into the topic
  // again, the target is emptied, and a replay reads what the topic keeps, the copy included.
  prod.stop();
  auto resync = pg2ch_cli(db, write_config_file(producer, db.dir() / "producer.toml"), {"resync", "public.prices"},
                          "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  const auto before_copy = broker.watermarks(topic, 0).second;
  PipelineRunner copying(producer);
  ASSERT_TRUE(wait_until([&] { return broker.watermarks(topic, 0).second >= before_copy + 101; }, 60s)) << "the copy";
  db.ch_exec("TRUNCATE TABLE prices");
  auto replay = pg2ch_cli(db, write_config_file(consumer, db.dir() / "fixed.toml"),
                          {"replay", "--from", "beginning", "--until-caught-up"}, "replay");
  ASSERT_EQ(replay.wait(120s), 0) << replay.describe();
  const TableQuery prices_text{"SELECT id, price::text, note FROM prices ORDER BY id",
                               "SELECT id, price, note FROM prices FINAL WHERE _deleted = 0 ORDER BY id"};
  EXPECT_TRUE(wait_equal(db, prices_text, 5s));
  EXPECT_EQ(table_row(status_of(db, consumer, "status-replayed"), "public.prices").state, "streaming");
  copying.stop();
}

// A consumer's target dropped in ClickHouse (here while the consumer was stopped; under a running
// one, its retry ends in the same start) is created again empty, and the group's offsets are past
// the messages that wrote its rows: that table stops, saying so, while the others go on; a replay
// from the beginning brings it back equal. Before, it went on streaming with only the later rows
// (the fault suite found 13,093 of 49,282 rows missing so).
TEST(KafkaConsumerTableStates, ATargetDroppedStopsItsTableUntilAReplay) {
  auto db = make_test_database();
  KafkaBroker broker;
  db.pg_exec("CREATE TABLE lost (id int PRIMARY KEY, v text)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO lost SELECT g, 'v' || g FROM generate_series(1, 200) g");
  db.pg_exec("INSERT INTO other VALUES (1, 'a')");
  const std::vector<std::string> tables = {"public.lost", "public.other"};
  auto [producer, consumer] = route_configs(db, broker, tables);
  for (const auto& t : tables) broker.create_topic("pg2ch." + t, 2);
  const auto lost = same_columns("lost", "id, v", "id");
  const auto other = same_columns("other", "id, v", "id");
  PipelineRunner prod(producer);
  prod.wait_ready();
  const auto config_file = write_config_file(consumer, db.dir() / "consumer.toml");
  {
    auto cons = pg2ch_cli(db, config_file, {"run"}, "consumer1");
    ASSERT_TRUE(wait_equal(db, lost)) << cons.describe();
    ASSERT_TRUE(wait_equal(db, other)) << cons.describe();
    EXPECT_EQ(cons.stop(), 0) << cons.describe();
  }
  db.ch_exec("DROP TABLE lost__current");
  db.ch_exec("DROP TABLE lost");
  db.pg_exec("INSERT INTO lost VALUES (201, 'after')");
  db.pg_exec("INSERT INTO other VALUES (2, 'b')");
  {
    auto cons = pg2ch_cli(db, config_file, {"run"}, "consumer2");
    ASSERT_TRUE(wait_equal(db, other)) << "the other table goes on: " << cons.describe();
    const TableRow row = table_row(status_of(db, consumer, "status-lost"), "public.lost");
    EXPECT_EQ(row.state, "stopped") << cons.describe();
    EXPECT_NE(row.last_error.find("created again empty"), std::string::npos) << row.last_error;
    EXPECT_EQ(db.ch_rows("SELECT count() FROM lost"), (Rows{{"0"}})) << "nothing written as if it were whole";
    EXPECT_EQ(cons.stop(), 0) << cons.describe();
  }
  auto replay = pg2ch_cli(db, config_file, {"replay", "--from", "beginning", "--until-caught-up"}, "replay");
  ASSERT_EQ(replay.wait(120s), 0) << replay.describe();
  EXPECT_TRUE(wait_equal(db, lost)) << replay.describe();
  EXPECT_TRUE(wait_equal(db, other)) << replay.describe();
  EXPECT_EQ(table_row(status_of(db, consumer, "status-replayed"), "public.lost").state, "streaming");
  prod.stop();
}

}  // namespace
}  // namespace pg2ch::test
