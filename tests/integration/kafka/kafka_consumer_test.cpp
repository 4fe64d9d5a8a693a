// The whole Kafka route on real servers: PostgreSQL 15 → pg2ch (logical, sink = kafka) → the mock
// Kafka broker → pg2ch (mode = kafka) → ClickHouse, compared row by row with the source.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <httplib.h>

#include "outbox/outbox_support.h"
#include "support/all_types.h"
#include "support/kafka_broker.h"
#include "support/free_port.h"
#include "support/held_commits.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/prometheus_page.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TableQuery source_table_query() {
  return {"SELECT id, name, value::text FROM source_table ORDER BY id",
          "SELECT id, name, toString(value) FROM source_table FINAL WHERE _deleted = 0 ORDER BY id"};
}

bool slot_streaming(TestDatabase& db) {
  return db.pg_rows("SELECT count(*) FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid "
                    "WHERE s.slot_name = '" + db.name() + "' AND r.state = 'streaming'") == Rows{{"1"}};
}

std::int64_t ch_count(TestDatabase& db, const std::string& table) {
  try {
    return std::stoll(db.ch_rows("SELECT count() FROM " + table + " FINAL WHERE _deleted = 0")[0][0]);
  } catch (const Error&) {
    return -1;  // not created yet
  }
}

class KafkaRoute : public ::testing::Test {
 protected:
  // `format` is the producer's kafka.format; the consumer recognises either.
  void configure(const std::vector<std::string>& tables, const std::string& format, int partitions) {
    producer = make_test_config(db, tables);
    producer.sink = "kafka";
    producer.kafka.brokers = broker.bootstrap();
    producer.kafka.format = format;
    for (const auto& t : tables) broker.create_topic("pg2ch." + t, partitions);
    consumer = make_test_config(db, tables);
    consumer.mode = "kafka";
    consumer.kafka.brokers = broker.bootstrap();
    consumer.kafka.group_id = db.name();
    consumer.batch.max_delay = 200ms;
    // Its own state file (its table states), as a consumer on another host would have.
    consumer.state.path = (db.dir() / "consumer.state").string();
    // The mock broker holds a rebalance until a departed member's session expires: keep restarts quick.
    consumer.kafka.session_timeout = 6s;
  }
  // Started and past its snapshot before the consumer starts, so the tests see the snapshot's
  // rows arrive through Kafka as well as the streamed ones.
  std::unique_ptr<PipelineRunner> start_producer() {
    auto r = std::make_unique<PipelineRunner>(producer);
    r->wait_ready();
    EXPECT_TRUE(slot_streaming(db));
    return r;
  }

  TestDatabase db = make_test_database();
  KafkaBroker broker;
  config::Config producer, consumer;
};

TEST_F(KafkaRoute, EveryTypeArrivesThroughDebeziumEvents) {
  all_types::create(db);
  db.pg_exec(all_types::kRows);  // existing rows: the snapshot sends them as op "r"
  configure({"public.all_types"}, "debezium", 3);
  auto prod = start_producer();
  PipelineRunner cons(consumer);

  const auto caps = db.ch().capabilities();
  const auto q = all_types::query(caps.datetime64, caps.bool_type);
  db.pg_exec("SET intervalstyle = 'iso_8601'");
  ASSERT_TRUE(wait_equal(db, q)) << "snapshot rows";
  all_types::copy_update_and_delete(db);
  db.pg_exec("UPDATE all_types SET id = 1000 WHERE id = 104");  // key change: d + c
  ASSERT_TRUE(wait_equal(db, q)) << "changes";
  cons.stop();
  prod->stop();
}

// Both halves of the route report on /metrics: the producer counts what Kafka confirmed, the
// consumer what it applied and how many messages it has not read yet.
TEST_F(KafkaRoute, MetricsCountTheMessagesOnBothSidesAndTheConsumerLag) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  configure({"public.source_table"}, "debezium", 2);
  const int producer_port = free_loopback_port(), consumer_port = free_loopback_port();
  producer.service.metrics_listen = "127.0.0.1:" + std::to_string(producer_port);
  consumer.service.metrics_listen = "127.0.0.1:" + std::to_string(consumer_port);
  producer.state.path = (db.dir() / "producer.state").string();
  consumer.state.path = (db.dir() / "consumer.state").string();
  auto prod = pg2ch_cli(db, write_config_file(producer, db.dir() / "producer.toml"), {"run"}, "producer");
  auto cons = pg2ch_cli(db, write_config_file(consumer, db.dir() / "consumer.toml"), {"run"}, "consumer");
  // Past its (empty) snapshot, so every row below is streamed, once.
  ASSERT_TRUE(wait_until([&] { return slot_streaming(db); }, 60s)) << prod.describe();
  db.pg_exec("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series(1, 300) g");
  db.pg_exec("DELETE FROM source_table WHERE id <= 20");
  ASSERT_TRUE(wait_equal(db, source_table_query(), 60s)) << prod.describe() << cons.describe();

  const auto page = [](int port) {
    httplib::Client client("127.0.0.1", port);
    auto r = client.Get("/metrics");
    return r && r->status == 200 ? parse_prometheus(r->body) : std::vector<PrometheusSample>{};
  };
  const std::map<std::string, std::string> insert = {{"table", "public.source_table"}, {"op", "insert"}};
  const std::map<std::string, std::string> remove = {{"table", "public.source_table"}, {"op", "delete"}};
  std::vector<PrometheusSample> p, c;
  // The lag is sampled every 10 s; deliveries are counted as their reports arrive.
  ASSERT_TRUE(wait_until(
      [&] {
        p = page(producer_port);
        c = page(consumer_port);
        return sample_value(c, "pg2ch_kafka_consumer_lag_messages").has_value() &&
               sample_value(p, "pg2ch_kafka_messages_delivered_total").value_or(0) >= 320;
      },
      30s, 200ms))
      << prod.describe() << cons.describe();
  EXPECT_EQ(sample_value(p, "pg2ch_changes_total", insert), 300);
  EXPECT_EQ(sample_value(p, "pg2ch_changes_total", remove), 20);
  // A delete is its event and a tombstone.
  EXPECT_EQ(sample_value(p, "pg2ch_kafka_messages_delivered_total"), 340);
  EXPECT_EQ(sample_value(c, "pg2ch_changes_total", insert), 300);
  EXPECT_EQ(sample_value(c, "pg2ch_changes_total", remove), 20);
  EXPECT_EQ(sample_value(c, "pg2ch_kafka_consumer_lag_messages"), 0) << "caught up: nothing left to read";
  EXPECT_FALSE(sample_value(c, "pg2ch_replication_lag_bytes").has_value()) << "no slot in this mode";
  EXPECT_EQ(cons.stop(SIGTERM), 0) << cons.describe();
  EXPECT_EQ(prod.stop(SIGTERM), 0) << prod.describe();
}

// When the topics go quiet the consumer tells the sink, like a replication keepalive does, so a
// small batch is written after batch.idle_flush_ms instead of waiting out batch.max_delay_ms.
// Before, the consumer never reported idle and these rows waited the full minute.
TEST_F(KafkaRoute, QuietTopicsFlushAfterTheIdleDelayNotTheMaxDelay) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  configure({"public.source_table"}, "debezium", 2);
  consumer.batch.max_delay = 120s;
  consumer.batch.idle_flush = 200ms;
  auto prod = start_producer();
  PipelineRunner cons(consumer);
  cons.wait_ready();
  db.pg_exec("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series(1, 10) g");
  ASSERT_TRUE(wait_equal(db, source_table_query(), 30s)) << "written long before max_delay_ms (120 s)";
  cons.stop();
  prod->stop();
}

TEST_F(KafkaRoute, KeyOnlyEventsAndTruncateAcrossPartitions) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  db.pg_exec("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series(1, 500) g");
  configure({"public.source_table"}, "key", 3);
  auto prod = start_producer();
  PipelineRunner cons(consumer);
  ASSERT_TRUE(wait_equal(db, source_table_query())) << "snapshot";

  db.pg_exec("UPDATE source_table SET value = value * 2, name = name || '!' WHERE id % 3 = 0");
  db.pg_exec("DELETE FROM source_table WHERE id % 7 = 0");
  db.pg_exec("BEGIN; DELETE FROM source_table WHERE id = 2; INSERT INTO source_table VALUES (2, 'reborn', 3); COMMIT");
  ASSERT_TRUE(wait_equal(db, source_table_query())) << "changes";

  // The truncate reaches each of the 3 partitions after that partition's earlier changes; rows
  // written after it must survive, rows before it must not come back.
  db.pg_exec("INSERT INTO source_table SELECT g, 'late' || g, g FROM generate_series(1001, 1300) g");
  db.pg_exec("TRUNCATE source_table");
  db.pg_exec("INSERT INTO source_table SELECT g, 'after' || g, g FROM generate_series(1, 200) g");
  ASSERT_TRUE(wait_equal(db, source_table_query())) << "truncate";
  cons.stop();
  prod->stop();
}

// Issue 13 item 0: a key-only event is published as soon as its commit is decoded, which can be
// before the commit is visible (HeldCommits). The consumer fetched the rows then, saw the state
// BEFORE the transaction and wrote it under the transaction's versions, where nothing corrected
// it: an updated row one update behind, a deleted row present, an inserted row deleted. The
// consumer must wait until the event's transaction is visible to its fetch.
TEST_F(KafkaRoute, KeyOnlyEventsWaitForTheirTransactionToBeVisible) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  db.pg_exec("INSERT INTO source_table VALUES (1, 'one', 1), (2, 'two', 2), (4, 'four', 4)");
  configure({"public.source_table"}, "key", 2);
  auto prod = start_producer();
  PipelineRunner cons(consumer);
  ASSERT_TRUE(wait_equal(db, source_table_query())) << "snapshot";
  const auto topic_size = [&] { return broker.read_all("pg2ch.public.source_table").size(); };
  ASSERT_EQ(topic_size(), 3u);
  // Every row version written, deletes included (the stale states the bug wrote look like the
  // rows already there: only their versions tell them apart).
  const auto target = [&] { return db.ch_rows("SELECT count(), max(_version) FROM source_table"); };
  const Rows before = target();

  HeldCommits held(db);
  held.hold("BEGIN; UPDATE source_table SET name = 'one, updated', value = 10 WHERE id = 1; "
            "DELETE FROM source_table WHERE id = 2; INSERT INTO source_table VALUES (3, 'three', 3); "
            "UPDATE source_table SET id = 5 WHERE id = 4; COMMIT");
  // Decoded and published while the commit waits: u 1, d 2, c 3, and d 4 + c 5 for the key change.
  ASSERT_TRUE(wait_until([&] { return topic_size() == 8; }, 30s)) << "events published: " << topic_size();
  EXPECT_FALSE(wait_until([&] { return target() != before; }, 3s))
      << "the consumer wrote rows of a transaction its source does not show yet";
  held.release();
  EXPECT_TRUE(wait_equal(db, source_table_query(), 30s)) << "after the commit became visible";
  EXPECT_FALSE(cons.failed()) << cons.describe();
  cons.stop();
  prod->stop();
}

// The workload of issue 13 item 0, bounded: four writers (inserts, updates, deletes, key changes,
// transactions held open) in key format, the consumer SIGKILLed and restarted every few seconds.
// Commits are held between their record and their visibility for a while now and then (a
// synchronous standby slow to answer, emulated by setting and resetting a standby name that never
// connects): the window in which the consumer used to read rows older than their events.
TEST_F(KafkaRoute, KeyOnlyEventsUnderConcurrentWritersAndConsumerKillsEndEqual) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  db.pg_exec("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series(1, 2000) g");
  configure({"public.source_table"}, "key", 3);
  auto prod = start_producer();
  const auto cfg_file = write_config_file(consumer, db.dir() / "consumer.toml");

  std::atomic<bool> stop{false};
  std::atomic<int> transactions{0};
  std::mutex failure_mutex;
  std::string failure;  // of a writer
  std::vector<std::thread> threads;
  // Writer w owns the ids = w (mod 4): no writer waits for another's row, none deadlocks.
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      auto conn = db.pg_connect();
      conn.exec("SET synchronous_commit = on");  // held while a standby name is set
      std::mt19937 rng(static_cast<unsigned>(w) + 1);
      std::vector<int> ids;
      for (int id = 1; id <= 2000; ++id) {
        if (id % 4 == w) ids.push_back(id);
      }
      int next_id = 10000 + w;
      const auto pick = [&]() -> int& { return ids[rng() % ids.size()]; };
      const auto value = [&] { return std::to_string(rng() % 100000); };
      while (!stop) {
        std::string sql;
        switch (ids.size() < 50 ? 0 : rng() % 6) {
          case 0:
            sql = fmt::format("INSERT INTO source_table VALUES ({0}, 'i{0}', {1})", next_id, value());
            ids.push_back(next_id);
            next_id += 4;
            break;
          case 1: {
            int& id = pick();
            sql = fmt::format("DELETE FROM source_table WHERE id = {}", id);
            id = ids.back();
            ids.pop_back();
            break;
          }
          case 2: {
            int& id = pick();  // key change: d old key + c new key
            sql = fmt::format("UPDATE source_table SET id = {}, name = name || 'k' WHERE id = {}", next_id, id);
            id = next_id;
            next_id += 4;
            break;
          }
          case 3: {  // held open, several changes of one key
            const int id = pick();
            sql = fmt::format("BEGIN; UPDATE source_table SET value = {1} WHERE id = {0}; SELECT pg_sleep(0.05); "
                              "UPDATE source_table SET name = 'h' || {1} WHERE id = {0}; COMMIT",
                              id, value());
            break;
          }
          default:
            sql = fmt::format("UPDATE source_table SET value = {}, name = 'u' || {} WHERE id = {}", value(), value(),
                              pick());
        }
        try {
          conn.exec(sql);
        } catch (const std::exception& e) {
          std::lock_guard lock(failure_mutex);
          if (failure.empty()) failure = e.what();
          return;
        }
        ++transactions;
      }
    });
  }
  // A synchronous standby 100 ms slow, every 400 ms.
  threads.emplace_back([&] {
    auto conn = db.pg_connect();
    try {
      while (!stop) {
        conn.exec("ALTER SYSTEM SET synchronous_standby_names = 'pg2ch_test_never_connects'");
        conn.exec("SELECT pg_reload_conf()");
        std::this_thread::sleep_for(100ms);
        conn.exec("ALTER SYSTEM RESET synchronous_standby_names");
        conn.exec("SELECT pg_reload_conf()");
        std::this_thread::sleep_for(300ms);
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(failure_mutex);
      if (failure.empty()) failure = e.what();
      stop = true;
    }
    // Never leave commits held, whatever happened above.
    try {
      auto reset = db.pg_connect();
      reset.exec("ALTER SYSTEM RESET synchronous_standby_names");
      reset.exec("SELECT pg_reload_conf()");
    } catch (const std::exception& e) {
      std::cerr << "resetting synchronous_standby_names: " << e.what() << "\n";
    }
  });
  const auto join = [&] {
    stop = true;
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  };
  struct Joiner {
    std::function<void()> f;
    ~Joiner() { f(); }
  } joiner{join};

  std::mt19937 rng(42);
  for (int round = 0; round < 4; ++round) {
    auto cons = pg2ch_cli(db, cfg_file, {"run"}, fmt::format("consumer{}", round));
    std::this_thread::sleep_for(std::chrono::milliseconds(2500 + rng() % 2000));
    ASSERT_TRUE(cons.running()) << cons.stderr_text();
    cons.kill();
  }
  join();
  ASSERT_EQ(failure, "") << "a writer failed";
  std::cout << "[ measured ] " << transactions << " transactions by 4 writers\n";
  auto last = pg2ch_cli(db, cfg_file, {"run"}, "consumer_last");
  EXPECT_TRUE(wait_equal(db, source_table_query(), 60s)) << last.stderr_text();
  EXPECT_EQ(last.stop(), 0) << last.stderr_text();
  prod->stop();
}

TEST_F(KafkaRoute, ConsumerKilledMidBatchAndRestartedLosesNothing) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  configure({"public.source_table"}, "debezium", 2);
  auto prod = start_producer();
  for (int i = 0; i < 20; ++i) {
    db.pg_exec(fmt::format("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series({}, {}) g",
                           i * 5000 + 1, (i + 1) * 5000));
  }
  db.pg_exec("UPDATE source_table SET value = -value WHERE id % 10 = 0");
  // Small ClickHouse inserts (about a hundred for the 110k changes) keep the consumer busy long
  // enough for the kill to land between them: with whole 20k-message segments it could finish
  // all of them between two looks at the target.
  consumer.batch.max_rows = 1000;
  const auto cfg_file = write_config_file(consumer, db.dir() / "consumer.toml");
  {
    auto first = pg2ch_cli(db, cfg_file, {"run"}, "consumer1");
    ASSERT_TRUE(wait_until([&] { return ch_count(db, "source_table") > 0 || !first.running(); }, 60s, 5ms));
    ASSERT_TRUE(first.running()) << first.stderr_text();
    first.kill();
  }
  const auto seen = ch_count(db, "source_table");
  std::cout << "[ measured ] consumer killed with " << seen << " of 100000 rows in ClickHouse\n";
  EXPECT_LT(seen, 100000) << "the kill should land mid-stream; make the workload larger if this fails";
  auto second = pg2ch_cli(db, cfg_file, {"run"}, "consumer2");
  ASSERT_TRUE(wait_equal(db, source_table_query(), 120s)) << second.stderr_text();
  EXPECT_EQ(second.stop(), 0) << second.stderr_text();
  prod->stop();
}

TEST_F(KafkaRoute, BrokerAwayForAWhileThenEverythingArrives) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  configure({"public.source_table"}, "debezium", 1);
  auto prod = start_producer();
  PipelineRunner cons(consumer);
  db.pg_exec("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series(1, 1000) g");
  ASSERT_TRUE(wait_equal(db, source_table_query()));

  broker.down();
  db.pg_exec("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series(1001, 3000) g");
  db.pg_exec("DELETE FROM source_table WHERE id <= 100");
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(ch_count(db, "source_table"), 1000) << "nothing can arrive while the broker is down";
  broker.up();
  ASSERT_TRUE(wait_equal(db, source_table_query(), 120s));
  EXPECT_FALSE(cons.failed());
  cons.stop();
  prod->stop();
}

TEST_F(KafkaRoute, ReplayFromTheBeginningRebuildsAnEmptiedTarget) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  db.pg_exec("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series(1, 300) g");
  configure({"public.source_table"}, "debezium", 2);
  auto prod = start_producer();
  db.pg_exec("UPDATE source_table SET name = 'u' || id WHERE id % 2 = 0");
  db.pg_exec("DELETE FROM source_table WHERE id % 5 = 0");
  const auto cfg_file = write_config_file(consumer, db.dir() / "consumer.toml");
  {
    PipelineRunner cons(consumer);
    ASSERT_TRUE(wait_equal(db, source_table_query()));
    cons.stop();
  }
  db.ch_exec("TRUNCATE TABLE source_table");
  // The group's offsets are at the end: a plain run would read nothing.
  auto plain = pg2ch_cli(db, cfg_file, {"run", "--until-caught-up"}, "plain");
  ASSERT_EQ(plain.wait(120s), 0) << plain.stderr_text();
  EXPECT_EQ(ch_count(db, "source_table"), 0);

  auto replay = pg2ch_cli(db, cfg_file, {"replay", "--from", "beginning", "--until-caught-up"}, "replay");
  ASSERT_EQ(replay.wait(120s), 0) << replay.stderr_text();
  EXPECT_TRUE(wait_equal(db, source_table_query(), 5s));
  prod->stop();
}

// Retention deleted messages the group had not read yet (here the mock broker's size cap, while
// no consumer ran). Before, librdkafka jumped to the oldest message left and the consumer went on:
// the changes in between never reached ClickHouse and nothing but an info line said so (issue 13
// item 0). Now it stops naming topic, partition and the lost offsets, and the recovery its hint
// gives (copy the table into the topic again, empty the target, replay) makes the target right.
TEST_F(KafkaRoute, MessagesDeletedBeforeTheGroupReadThemStopTheConsumer) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  configure({"public.source_table"}, "debezium", 1);
  const std::string topic = "pg2ch.public.source_table";
  // The names are long random text: compare a prefix, so a difference prints readably.
  const TableQuery q{"SELECT id, left(name, 12), value::text FROM source_table ORDER BY id",
                     "SELECT id, substring(name, 1, 12), toString(value) FROM source_table FINAL WHERE _deleted = 0 "
                     "ORDER BY id"};
  auto prod = start_producer();
  db.pg_exec("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series(1, 100) g");
  {
    PipelineRunner cons(consumer);
    ASSERT_TRUE(wait_equal(db, q));
    cons.stop();
  }  // the group has committed offset 100
  // While no consumer runs: changes of rows 1..50, then about 15 MB of updates of rows 51..100
  // (random hex, which the producer's lz4 cannot shrink much), far more than the broker keeps.
  db.pg_exec("DELETE FROM source_table WHERE id <= 10");                // 10 events + 10 tombstones
  db.pg_exec("UPDATE source_table SET value = -value WHERE id <= 50");  // 40 events
  std::string noise = "md5(random()::text)";
  for (int i = 1; i < 60; ++i) noise += " || md5(random()::text)";
  constexpr int kRounds = 150;
  for (int i = 0; i < kRounds; ++i) db.pg_exec("UPDATE source_table SET name = " + noise + " WHERE id > 50");
  const std::int64_t total = 100 + 20 + 40 + kRounds * 50;
  ASSERT_TRUE(wait_until([&] { return broker.watermarks(topic, 0).second >= total; }, 120s)) << "producer delivered";
  const auto [low, high] = broker.watermarks(topic, 0);
  std::cout << "[ measured ] the broker keeps offsets " << low << ".." << high - 1 << " of " << topic << "[0]\n";
  ASSERT_GT(low, 160) << "the changes of rows 1..50 must be gone; make the updates larger if this fails";

  const auto cfg_file = write_config_file(consumer, db.dir() / "consumer.toml");
  auto gap = pg2ch_cli(db, cfg_file, {"run"}, "gap");
  const auto code = gap.wait(60s);
  if (!code) std::cout << "[ measured ] still running; ClickHouse vs PostgreSQL: " << wait_equal(db, q, 10s).message() << "\n";
  ASSERT_EQ(code, 5) << "a stop that needs the operator (exit 5): " << gap.stderr_text();
  const std::string err = gap.stderr_text();
  EXPECT_NE(err.find(fmt::format("{}[0] offsets 100..{}", topic, low - 1)), std::string::npos) << err;
  EXPECT_NE(err.find("pg2ch resync"), std::string::npos) << err;
  EXPECT_EQ(ch_count(db, "source_table"), 100) << "nothing after the gap applied";

  // The recovery docs/kafka.md gives: the producer copies the table into the topic again, the
  // target is emptied, and a replay reads what the topic keeps, the copy included.
  prod->stop();
  const auto producer_file = write_config_file(producer, db.dir() / "producer.toml");
  auto resync = pg2ch_cli(db, producer_file, {"resync", "public.source_table"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.stderr_text();
  prod = std::make_unique<PipelineRunner>(producer);  // copies the table, then streams
  ASSERT_TRUE(wait_until([&] { return broker.watermarks(topic, 0).second >= total + 90; }, 60s)) << "the copy";
  db.ch_exec("TRUNCATE TABLE source_table");
  auto replay = pg2ch_cli(db, cfg_file, {"replay", "--from", "beginning", "--until-caught-up"}, "replay");
  ASSERT_EQ(replay.wait(120s), 0) << replay.stderr_text();
  EXPECT_TRUE(wait_equal(db, q, 5s));
  // The group is past the gap now: a plain run goes on from there.
  const auto before_update = broker.watermarks(topic, 0).second;
  db.pg_exec("UPDATE source_table SET value = 0 WHERE id = 11");
  ASSERT_TRUE(wait_until([&] { return broker.watermarks(topic, 0).second > before_update; }, 60s));
  auto after = pg2ch_cli(db, cfg_file, {"run", "--until-caught-up"}, "after");
  ASSERT_EQ(after.wait(60s), 0) << after.stderr_text();
  EXPECT_TRUE(wait_equal(db, q, 5s));
  prod->stop();
}

TEST_F(KafkaRoute, UndecodableMessageGoesToTheDeadLetterTopicOrStopsTheConsumer) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  configure({"public.source_table"}, "debezium", 1);
  broker.create_topic("pg2ch.dead", 1);
  auto prod = start_producer();
  db.pg_exec("INSERT INTO source_table VALUES (1, 'a', 1)");
  ASSERT_TRUE(wait_until([&] { return broker.read_all("pg2ch.public.source_table").size() == 1; }, 30s));
  broker.produce("pg2ch.public.source_table", 0, R"({"id":2})", "{not json");
  broker.produce("pg2ch.public.source_table", 0, R"({"id":3})",
                 R"({"before":null,"after":{"id":3,"name":"x","value":"not a number"},)"
                 R"("source":{"schema":"public","table":"source_table","lsn":1},"op":"c"})");
  db.pg_exec("INSERT INTO source_table VALUES (4, 'b', 2)");

  // Without a dead-letter topic: the consumer stops at the bad message and says where it is.
  const auto strict_file = write_config_file(consumer, db.dir() / "strict.toml");
  auto strict = pg2ch_cli(db, strict_file, {"run"}, "strict");
  ASSERT_EQ(strict.wait(60s), 6) << "a data error: " << strict.stderr_text();
  EXPECT_NE(strict.stderr_text().find("pg2ch.public.source_table[0] offset 1"), std::string::npos)
      << strict.stderr_text();
  EXPECT_EQ(ch_count(db, "source_table"), 1) << "the row before the bad message is in, nothing after it";

  consumer.kafka.dead_letter_topic = "pg2ch.dead";
  PipelineRunner cons(consumer);
  ASSERT_TRUE(wait_equal(db, source_table_query()));
  const auto dead = broker.read_all("pg2ch.dead");
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].value, "{not json");
  EXPECT_EQ(dead[0].key, R"({"id":2})");
  std::map<std::string, std::string> headers(dead[1].headers.begin(), dead[1].headers.end());
  EXPECT_EQ(headers["pg2ch.source.topic"], "pg2ch.public.source_table");
  EXPECT_EQ(headers["pg2ch.source.offset"], "2");
  EXPECT_NE(headers["pg2ch.error"].find("value"), std::string::npos) << headers["pg2ch.error"];
  cons.stop();
  prod->stop();
}

// Two consumers in one group share the partitions; when one leaves, the other takes its
// partitions over from the offsets it committed (after flushing on revoke) and nothing is lost.
TEST_F(KafkaRoute, TwoConsumersInOneGroupShareAndHandOverPartitions) {
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  configure({"public.source_table"}, "debezium", 4);
  auto prod = start_producer();
  // Members on two hosts: each has its own state file (the table states it keeps).
  auto first_cfg = consumer;
  first_cfg.state.path = (db.dir() / "consumer-first.state").string();
  auto first = std::make_unique<PipelineRunner>(first_cfg);
  PipelineRunner second(consumer);
  for (int i = 0; i < 10; ++i) {
    db.pg_exec(fmt::format("INSERT INTO source_table SELECT g, 'n' || g, g FROM generate_series({}, {}) g",
                           i * 1000 + 1, (i + 1) * 1000));
  }
  ASSERT_TRUE(wait_equal(db, source_table_query(), 120s)) << "both members";
  first->stop();  // leaves the group: its partitions move to the second consumer
  first.reset();
  db.pg_exec("UPDATE source_table SET name = 'after handover' WHERE id % 3 = 0");
  db.pg_exec("DELETE FROM source_table WHERE id % 10 = 0");
  ASSERT_TRUE(wait_equal(db, source_table_query(), 120s)) << "the remaining member";
  EXPECT_FALSE(second.failed());
  second.stop();
  prod->stop();
}

// The trigger-based captures publish through the same sink: outbox (inserts, updates, deletes,
// key-only fetches on the producer side) and poll (new rows by watermark).
TEST_F(KafkaRoute, OutboxAndPollCapturesPublishToo) {
  db.pg_exec("CREATE TABLE queued (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  db.pg_exec("CREATE TABLE polled (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  configure({"public.queued", "public.polled"}, "debezium", 2);
  auto outbox = outbox_config(db, {"public.queued"});
  outbox.sink = "kafka";
  outbox.kafka = producer.kafka;
  outbox_setup(outbox);
  auto poll = make_test_config(db, {"public.polled"});
  poll.mode = "poll";
  poll.sink = "kafka";
  poll.kafka = producer.kafka;
  poll.poll.watermark = "id";
  poll.poll.interval = 100ms;
  poll.name = "poll_producer";
  poll.state.path = (db.dir() / "poll.state").string();
  PipelineRunner outbox_run(outbox), poll_run(poll), cons(consumer);

  db.pg_exec("INSERT INTO queued SELECT g, 'q' || g, g FROM generate_series(1, 300) g");
  db.pg_exec("UPDATE queued SET name = name || '!' WHERE id % 4 = 0");
  db.pg_exec("DELETE FROM queued WHERE id % 9 = 0");
  db.pg_exec("INSERT INTO polled SELECT g, 'p' || g, g / 2.0 FROM generate_series(1, 300) g");
  const auto q = [](const std::string& t) {
    return TableQuery{"SELECT id, name, value::text FROM " + t + " ORDER BY id",
                      "SELECT id, name, toString(value) FROM " + t + " FINAL WHERE _deleted = 0 ORDER BY id"};
  };
  ASSERT_TRUE(wait_equal(db, q("queued"))) << "outbox -> kafka -> consumer";
  ASSERT_TRUE(wait_equal(db, q("polled"))) << "poll -> kafka -> consumer";
  cons.stop();
  poll_run.stop();
  outbox_run.stop();
}

}  // namespace
}  // namespace pg2ch::test
