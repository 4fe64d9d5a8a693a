// sink = "kafka" / "both" with the logical capture: real PostgreSQL 15 and ClickHouse, the mock
// Kafka broker, and kcat reading the topics back.
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "kafka/kafka_fold.h"
#include "support/child_process.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

const char* const kSourceSql = "SELECT id::text, name, value::text FROM source_table ORDER BY source_table.id";

// The slot streams (START_REPLICATION is running). Until then changes may still land in the
// initial snapshot, which the logical capture copies straight into ClickHouse, not into the sink.
bool slot_exists(TestDatabase& db) {
  return db.pg_rows("SELECT count(*) FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid "
                    "WHERE s.slot_name = '" + db.name() + "' AND r.state = 'streaming'") == Rows{{"1"}};
}

std::int64_t confirmed_flush(TestDatabase& db) {
  const auto r = db.pg_rows("SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::bigint FROM pg_replication_slots "
                            "WHERE slot_name = '" + db.name() + "'");
  return r.empty() || r[0][0] == kNull ? 0 : std::stoll(r[0][0]);
}

// The *insert* position: the test servers run with synchronous_commit = off, so right after a
// COMMIT pg_current_wal_lsn() (the write position) may still be before the commit record, even
// before the transaction's changes, and a slot legitimately confirmed up to an earlier keepalive
// would look like it had gone past them.
std::int64_t current_wal(TestDatabase& db) {
  return std::stoll(db.pg_rows("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")[0][0]);
}

// Waits until the topic, folded, holds exactly the source's rows.
::testing::AssertionResult wait_topic_equals_source(TestDatabase& db, const KafkaBroker& broker,
                                                    const std::string& topic, FoldedTopic& folded) {
  Rows pg, kafka;
  const bool ok = wait_until(
      [&] {
        pg = db.pg_rows(kSourceSql);
        folded = fold(broker.read_all(topic));
        kafka = after_rows(folded, {"id", "name", "value"});
        return pg == kafka;
      },
      60s, 250ms);
  if (ok) return ::testing::AssertionSuccess();
  auto out = ::testing::AssertionFailure() << "PostgreSQL has " << pg.size() << " rows, the topic " << kafka.size();
  for (std::size_t i = 0, shown = 0; i < std::max(pg.size(), kafka.size()) && shown < 5; ++i) {
    const std::string a = i < pg.size() ? fmt::format("{}", fmt::join(pg[i], "|")) : "<none>";
    const std::string b = i < kafka.size() ? fmt::format("{}", fmt::join(kafka[i], "|")) : "<none>";
    if (a == b) continue;
    ++shown;
    out << "\n  row " << i << ": pg=[" << a << "] kafka=[" << b << "]";
  }
  return out;
}

class KafkaSink : public ::testing::Test {
 protected:
  void SetUp() override {
    db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
    broker.create_topic(topic, 3);
    cfg.kafka.brokers = broker.bootstrap();
    cfg.sink = "kafka";
  }

  TestDatabase db = make_test_database();
  KafkaBroker broker;
  config::Config cfg = make_test_config(db, {"public.source_table"});
  std::string topic = "pg2ch.public.source_table";
};

TEST_F(KafkaSink, DebeziumEnvelopeCarriesEveryChange) {
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return slot_exists(db); }, 60s));

  db.pg_exec("INSERT INTO source_table SELECT g, 'name ' || g, g * 0.5 FROM generate_series(1, 300) g");
  db.pg_exec("UPDATE source_table SET value = value + 1, name = name || '!' WHERE id % 3 = 0");
  db.pg_exec("DELETE FROM source_table WHERE id % 7 = 0");
  db.pg_exec("BEGIN; UPDATE source_table SET value = 1 WHERE id = 1; UPDATE source_table SET value = NULL WHERE id = 1; "
             "DELETE FROM source_table WHERE id = 2; INSERT INTO source_table VALUES (2, 'reborn', 3); COMMIT");
  db.pg_exec("UPDATE source_table SET id = 1000 WHERE id = 4");  // the key moves: d + tombstone + c
  FoldedTopic f;
  ASSERT_TRUE(wait_topic_equals_source(db, broker, topic, f)) << "changes";
  EXPECT_EQ(f.ops["c"], 300 + 1 + 1);
  EXPECT_EQ(f.ops["u"], 100 + 2);
  EXPECT_EQ(f.ops["d"], 42 + 1 + 1);
  EXPECT_EQ(f.ops["tombstone"], f.ops["d"]) << "every delete is followed by a tombstone";

  // One delete event in full: the key-only old tuple becomes "before", with the source block.
  bool seen_delete = false;
  for (const auto& m : broker.read_all(topic)) {
    if (!m.value || m.value->find("\"op\":\"d\"") == std::string::npos || *m.key != R"({"id":7})") continue;
    rapidjson::Document v;
    v.Parse(m.value->c_str());
    EXPECT_EQ(v["before"]["id"].GetInt(), 7);
    EXPECT_TRUE(v["before"]["name"].IsNull());
    EXPECT_TRUE(v["after"].IsNull());
    EXPECT_STREQ(v["source"]["connector"].GetString(), "postgresql");
    EXPECT_STREQ(v["source"]["table"].GetString(), "source_table");
    EXPECT_STREQ(v["source"]["db"].GetString(), db.name().c_str());
    EXPECT_GT(v["source"]["lsn"].GetUint64(), 0u);
    ASSERT_TRUE(v["source"]["txId"].IsUint()) << "the deleting transaction's xid";
    EXPECT_GT(v["source"]["txId"].GetUint(), 0u);
    // Committed before pg2ch produced the event, and not long before.
    EXPECT_LE(v["source"]["ts_ms"].GetInt64(), v["ts_ms"].GetInt64());
    EXPECT_GT(v["source"]["ts_ms"].GetInt64(), v["ts_ms"].GetInt64() - 60000);
    seen_delete = true;
  }
  EXPECT_TRUE(seen_delete);

  db.pg_exec("TRUNCATE source_table");
  db.pg_exec("INSERT INTO source_table VALUES (5, 'after truncate', 5)");
  ASSERT_TRUE(wait_topic_equals_source(db, broker, topic, f)) << "truncate";
  EXPECT_EQ(f.ops["t"], 3) << "op t goes to every partition";
  EXPECT_EQ(f.rows.size(), 1u);
  runner.stop();
}

TEST_F(KafkaSink, VersionsOrderEachKey) {
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return slot_exists(db); }, 60s));
  db.pg_exec("INSERT INTO source_table VALUES (1, 'a', 1)");
  for (int i = 0; i < 20; ++i) db.pg_exec("UPDATE source_table SET value = value + 1 WHERE id = 1");
  FoldedTopic f;
  ASSERT_TRUE(wait_topic_equals_source(db, broker, topic, f));
  std::uint64_t last = 0;
  int events = 0;
  for (const auto& m : broker.read_all(topic)) {
    rapidjson::Document v;
    v.Parse(m.value->c_str());
    const std::uint64_t lsn = v["source"]["lsn"].GetUint64();
    EXPECT_GT(lsn, last) << "source.lsn (the _version) increases along a key's partition";
    last = lsn;
    ++events;
  }
  EXPECT_EQ(events, 21);
  runner.stop();
}

TEST_F(KafkaSink, KeyFormatOnOneTopicForAllTables) {
  db.pg_exec("CREATE TABLE other (code text PRIMARY KEY, n int)");
  cfg = make_test_config(db, {"public.source_table", "public.other"});
  cfg.sink = "kafka";
  cfg.kafka.brokers = broker.bootstrap();
  cfg.kafka.format = "key";
  cfg.kafka.topic = "pg-events";
  broker.create_topic("pg-events", 2);
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return slot_exists(db); }, 60s));
  db.pg_exec("INSERT INTO source_table SELECT g, 'n', g FROM generate_series(1, 50) g");
  db.pg_exec("INSERT INTO other SELECT 'c' || g, g FROM generate_series(1, 30) g");
  db.pg_exec("DELETE FROM source_table WHERE id <= 10");
  db.pg_exec("UPDATE other SET n = 0 WHERE n <= 5");

  // Alive keys per table from the events, as "table:id".
  auto alive = [&] {
    std::set<std::string> keys;
    for (const auto& [key, value] : fold(broker.read_all("pg-events")).rows) {
      rapidjson::Document v;
      v.Parse(value.c_str());
      const std::string table = v["__table"].GetString();
      keys.insert(table + ":" + as_pg_text(table == "other" ? v["code"] : v["id"]));
    }
    return keys;
  };
  std::set<std::string> expected;
  for (int i = 11; i <= 50; ++i) expected.insert("source_table:" + std::to_string(i));
  for (int i = 1; i <= 30; ++i) expected.insert("other:c" + std::to_string(i));
  ASSERT_TRUE(wait_until([&] { return alive() == expected; }, 60s)) << alive().size() << " keys alive";

  const auto messages = broker.read_all("pg-events");
  ASSERT_FALSE(messages.empty());
  EXPECT_NE(messages.front().key->find("\"__dbz__physicalTableIdentifier\":\"pg2ch.public."), std::string::npos)
      << "a shared topic keeps keys of different tables apart: " << *messages.front().key;
  for (const auto& m : messages) {
    ASSERT_TRUE(m.value) << "no tombstones in the key format";
    EXPECT_EQ(m.value->find("\"after\""), std::string::npos) << "key events carry no row: " << *m.value;
  }
  runner.stop();
}

// A producer host needs no ClickHouse: with sink = "kafka" nothing connects to it (the targets
// are the consumer's). Port 1 refuses every connection, so any ClickHouse request would fail.
TEST_F(KafkaSink, ProducersNeedNoClickHouse) {
  db.pg_exec("INSERT INTO source_table SELECT g, 'before', g FROM generate_series(1, 20) g");
  cfg.clickhouse.port = 1;
  auto poll_cfg = cfg;
  poll_cfg.mode = "poll";
  poll_cfg.name = "poll_producer";
  poll_cfg.poll.watermark = "id";
  poll_cfg.poll.interval = 100ms;
  poll_cfg.state.path = (db.dir() / "poll.state").string();
  poll_cfg.kafka.topic_prefix = "polled";
  broker.create_topic("polled.public.source_table", 3);

  PipelineRunner logical(cfg);
  logical.wait_ready();
  PipelineRunner poll(poll_cfg);
  poll.wait_ready();
  db.pg_exec("INSERT INTO source_table SELECT g, 'after', g FROM generate_series(21, 60) g");
  db.pg_exec("UPDATE source_table SET name = 'changed' WHERE id % 3 = 0");
  db.pg_exec("DELETE FROM source_table WHERE id % 7 = 0");
  FoldedTopic f;
  ASSERT_TRUE(wait_topic_equals_source(db, broker, topic, f)) << "logical, snapshot and stream";
  EXPECT_EQ(f.ops["r"], 20) << "the snapshot's rows";

  // poll sees new rows only (no deletes, and no updates with an id watermark): every row of the
  // source must have been published.
  const auto missing_from_poll = [&] {
    const auto published = fold(broker.read_all("polled.public.source_table")).rows;
    std::vector<std::string> missing;
    for (const auto& row : db.pg_rows("SELECT id FROM source_table ORDER BY id")) {
      if (!published.contains(R"({"id":)" + row[0] + "}")) missing.push_back(row[0]);
    }
    return missing;
  };
  ASSERT_TRUE(wait_until([&] { return missing_from_poll().empty(); }, 60s))
      << missing_from_poll().size() << " rows never published by poll";
  logical.stop();
  poll.stop();
}

TEST_F(KafkaSink, BothWritesClickHouseAndKafka) {
  cfg.sink = "both";
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return slot_exists(db); }, 60s));
  db.pg_exec("INSERT INTO source_table SELECT g, 'name ' || g, g * 0.25 FROM generate_series(1, 500) g");
  db.pg_exec("UPDATE source_table SET name = 'changed' WHERE id % 5 = 0");
  db.pg_exec("DELETE FROM source_table WHERE id % 11 = 0");
  ASSERT_TRUE(wait_equal(db, same_columns("source_table", "id, name, value", "id"))) << "ClickHouse";
  FoldedTopic f;
  ASSERT_TRUE(wait_topic_equals_source(db, broker, topic, f)) << "Kafka";
  const std::int64_t end = current_wal(db);
  EXPECT_TRUE(wait_until([&] { return confirmed_flush(db) >= end; }, 30s)) << "acknowledged once both have it";
  runner.stop();
}

TEST_F(KafkaSink, SlotWaitsForDeliveries) {
  // Away once the snapshot is taken: its copy asks Kafka whether the topic ever held a message
  // (capture/shared/copy_truncate.h), and an unanswered question fails the start (retried).
  PipelineRunner runner(cfg);
  runner.wait_ready();
  broker.down();
  ASSERT_TRUE(wait_until([&] { return slot_exists(db); }, 60s));
  db.pg_exec("INSERT INTO source_table SELECT g, 'x', g FROM generate_series(1, 100) g");
  const std::int64_t after = current_wal(db);  // the end of the insert's commit record
  // The broker is away: the changes reach pg2ch but no delivery report confirms them, so the
  // slot must stay before the insert's commit while the walsender keeps sending keepalives.
  // (A keepalive may move it up to the commit record itself: decoding restarts from the commit,
  // so the transaction is still sent again after a restart.)
  const auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_LT(confirmed_flush(db), after) << "acknowledged past undelivered messages";
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_FALSE(runner.failed());

  broker.up();
  FoldedTopic f;
  ASSERT_TRUE(wait_topic_equals_source(db, broker, topic, f)) << "delivered once the broker is back";
  EXPECT_TRUE(wait_until([&] { return confirmed_flush(db) >= after; }, 30s)) << "and then acknowledged";
  runner.stop();
}

TEST_F(KafkaSink, RunsFromTheCommandLineWithSeedVariables) {
  cfg.kafka.brokers = "127.0.0.1:1";  // overridden by KAFKA_BOOTSTRAP / KAFKA_TOPIC below
  const auto file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  broker.create_topic("pg-events", 2);
  auto proc = ChildProcess::spawn_pg2ch({.args = {"--config", file.string(), "run"},
                                         .env = {{"KAFKA_BOOTSTRAP", broker.bootstrap()}, {"KAFKA_TOPIC", "pg-events"}}});
  ASSERT_TRUE(wait_until([&] { return slot_exists(db); }, 60s)) << proc.describe();
  db.pg_exec("INSERT INTO source_table SELECT g, 'cli', g FROM generate_series(1, 20) g");
  ASSERT_TRUE(wait_until([&] { return fold(broker.read_all("pg-events")).rows.size() == 20; }, 60s)) << proc.describe();
  EXPECT_EQ(proc.stop(), 0) << proc.describe();
  EXPECT_NE(proc.stderr_text().find("publishing changes to Kafka " + broker.bootstrap()), std::string::npos)
      << proc.describe();
}

}  // namespace
}  // namespace pg2ch::test
