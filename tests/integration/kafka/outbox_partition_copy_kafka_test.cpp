// mode = "outbox" on a partitioned table publishing to Kafka: a TRUNCATE of one partition, a
// DETACH of another and a partition attached with rows each make the drainer copy the table again
// (capture/outbox/partition_copies.h). The copy goes through the sink after a TRUNCATE of the
// table, so what the partition held leaves the Kafka side too. With sink = "kafka" a Kafka
// consumer writes the topic into ClickHouse; with "both" the producer's own ClickHouse target and
// the folded topic are compared. Under a concurrent writer, every row ends equal. Before, the
// consumer (and the folded topic) kept the truncated and the detached partition's rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "common/error.h"
#include "kafka/kafka_fold.h"
#include "outbox/outbox_support.h"
#include "support/background_writer.h"
#include "support/child_process.h"
#include "support/kafka_route.h"
#include "support/partition_changes.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kColumns = "id, region, v, n";

// The folded topic of sales as rows of kColumns, in the source query's order.
Rows folded_sales(const KafkaBroker& broker) {
  Rows rows = after_rows(fold(broker.read_all("pg2ch.public.sales")), {"id", "region", "v", "n"});
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::stoll(a[0]) != std::stoll(b[0]) ? std::stoll(a[0]) < std::stoll(b[0]) : a[1] < b[1];
  });
  return rows;
}

class OutboxPartitionCopyThroughKafka : public ::testing::Test {
 protected:
  // sales: eu, us (us_0, us_1), asia, moon; 300 rows in each. The producer publishes in the
  // Debezium format to a topic of 3 partitions.
  config::Config producer(const std::string& sink) {
    create_partitioned_sales(db);
    db.pg_exec("CREATE TABLE sales_asia PARTITION OF sales FOR VALUES IN ('asia')");
    db.pg_exec("CREATE TABLE sales_moon PARTITION OF sales FOR VALUES IN ('moon')");
    db.pg_exec("INSERT INTO sales SELECT g, r, 'v' || g, 0 FROM generate_series(1, 300) g, "
               "unnest(ARRAY['eu', 'us', 'asia', 'moon']) r");
    auto cfg = outbox_config(db, {"public.sales"});
    cfg.sink = sink;
    cfg.kafka = route.producer.kafka;
    outbox_setup(cfg);
    return cfg;
  }

  // Inserts into eu, us and asia, updates rows of every region, deletes rows of eu and asia, and
  // moves rows from eu to us by an UPDATE of the partition key.
  std::unique_ptr<BackgroundWriter> start_writer() {
    return std::make_unique<BackgroundWriter>(db, [](pg::Connection& c, int i) {
      const std::string n = std::to_string(i);
      const char* region = i % 3 == 0 ? "asia" : (i % 3 == 1 ? "eu" : "us");
      c.exec("INSERT INTO sales VALUES (" + std::to_string(1000 + i) + ", '" + region + "', 'new', " + n + ")");
      c.exec("UPDATE sales SET v = 'u" + n + "', n = n + 1 WHERE id = " + std::to_string(1 + (i * 37) % 300));
      if (i % 4 == 0) {
        c.exec("DELETE FROM sales WHERE id = " + std::to_string(1 + (i * 53) % 300) + " AND region IN ('eu', 'asia')");
      }
      if (i % 5 == 0) {
        c.exec("UPDATE sales SET region = 'us', v = 'moved' WHERE region = 'eu' AND id = " + std::to_string(1000 + i - 2));
      }
    }, 10ms);
  }

  // A TRUNCATE of asia (which the writer fills), a DETACH of moon, and sun attached with rows.
  void change_partitions(const config::Config& cfg) {
    ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_moon"));
    auto writer = start_writer();
    std::this_thread::sleep_for(500ms);
    db.pg_exec("TRUNCATE sales_asia");
    std::this_thread::sleep_for(500ms);
    db.pg_exec("ALTER TABLE sales DETACH PARTITION sales_moon");
    std::this_thread::sleep_for(500ms);
    db.pg_exec("CREATE TABLE sales_sun (id int NOT NULL, region text NOT NULL, v text, n int, PRIMARY KEY (id, region))");
    db.pg_exec("INSERT INTO sales_sun SELECT g, 'sun', 'attached' || g, 0 FROM generate_series(1, 200) g");
    db.pg_exec("ALTER TABLE sales ATTACH PARTITION sales_sun FOR VALUES IN ('sun')");
    ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_sun")) << "the attach is seen";
    std::this_thread::sleep_for(1s);
    writer->finish();
  }

  TestDatabase db = make_test_database();
  KafkaBroker broker;
  KafkaRoute route = kafka_route(db, broker, {"public.sales"}, 3);
  TableQuery q = same_columns("sales", kColumns, "id, region");
};

TEST_F(OutboxPartitionCopyThroughKafka, TheConsumersTargetLosesAndGainsExactlyThePartitionsRows) {
  const auto cfg = producer("kafka");
  PipelineRunner drainer(cfg);
  PipelineRunner consumer(route.consumer);
  ASSERT_TRUE(wait_equal(db, q, 90s)) << "the rows that existed at setup, through Kafka";
  ASSERT_NO_FATAL_FAILURE(change_partitions(cfg));
  EXPECT_TRUE(wait_equal(db, q, 90s)) << "asia's and moon's rows gone from the consumer's target, sun's there";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE _deleted = 0 AND region = 'moon'"), (Rows{{"0"}}));
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(drainer.failed()) << drainer.describe();
  EXPECT_FALSE(consumer.failed()) << consumer.describe();
  consumer.stop();
  drainer.stop();
}

TEST_F(OutboxPartitionCopyThroughKafka, BothTheClickHouseTargetAndTheFoldedTopicEndEqual) {
  const auto cfg = producer("both");
  PipelineRunner drainer(cfg);
  ASSERT_TRUE(wait_equal(db, q, 90s)) << "the rows that existed at setup";
  ASSERT_NO_FATAL_FAILURE(change_partitions(cfg));
  EXPECT_TRUE(wait_equal(db, q, 90s)) << "the producer's ClickHouse target";
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  Rows pg, kafka;
  EXPECT_TRUE(wait_until(
      [&] {
        pg = db.pg_rows("SELECT " + std::string(kColumns) + " FROM sales ORDER BY id, region");
        kafka = folded_sales(broker);
        return pg == kafka;
      },
      60s, 1s))
      << "the folded topic: " << kafka.size() << " rows, PostgreSQL " << pg.size();
  EXPECT_FALSE(drainer.failed()) << drainer.describe();
  drainer.stop();
}

// The request and the events before it go only once Kafka confirmed the copy's TRUNCATE and rows:
// with the broker away the copy's flush gives up, the drain transaction rolls back and the request
// stays queued; with the broker back, the next run copies again and the consumer ends equal.
// Before, the request was deleted once the copy's flush gave up (30 s), nothing of it delivered:
// a crash then lost the copy.
TEST_F(OutboxPartitionCopyThroughKafka, TheRequestStaysQueuedUntilKafkaConfirmedTheCopy) {
  auto cfg = producer("kafka");
  cfg.kafka.message_timeout = 10min;  // undelivered messages wait in the producer rather than fail
  const auto requests = [&] {
    return db.pg_rows("SELECT count(*) FROM " + cfg.outbox.schema + "." + cfg.outbox.table + "_truncates")[0][0];
  };
  std::optional<PipelineRunner> drainer(std::in_place, cfg);
  ASSERT_TRUE(wait_partition_recorded(cfg, "sales", "sales_moon"));
  // One copy with the broker there: the producer knows the topic's partitions from then on.
  db.pg_exec("TRUNCATE sales_moon");
  ASSERT_TRUE(wait_until([&] { return requests() == "0"; }, 30s));
  broker.down();
  db.pg_exec("TRUNCATE sales_asia");
  drainer->expect_failure();
  (void)wait_until([&] { return drainer->failed() || requests() == "0"; }, 120s);
  EXPECT_EQ(requests(), "1") << "the request of a copy Kafka has not confirmed stays queued";
  EXPECT_TRUE(drainer->failed()) << "the drain transaction failed, so it rolled back";
  broker.up();
  try {
    drainer->stop();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did not report the flushed outbox copy durable"), std::string::npos)
        << e.what();
  }
  drainer.emplace(cfg);
  PipelineRunner consumer(route.consumer);
  EXPECT_TRUE(wait_equal(db, q, 90s)) << "the consumer's target without moon's and asia's rows";
  EXPECT_EQ(requests(), "0");
  EXPECT_FALSE(drainer->failed()) << drainer->describe();
  EXPECT_FALSE(consumer.failed()) << consumer.describe();
  consumer.stop();
  drainer->stop();
}

// pg2ch dies (PG2CH_CRASH_AT, as a SIGKILL there would) right after the short transaction that
// sent the TRUNCATE, had Kafka confirm it, marked sales copying and deleted the events before the
// request, before any row of the copy was sent. The next start copies sales through Kafka (a
// TRUNCATE of its own first), its queued events follow, and the request still queued is served
// again: the consumer ends equal under the writer.
TEST_F(OutboxPartitionCopyThroughKafka, AKillAfterTheRequestWasTakenEndsEqualAtTheNextStart) {
  const auto cfg = producer("kafka");
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner consumer(route.consumer);
  {
    PipelineRunner drainer(cfg);
    ASSERT_TRUE(wait_equal(db, q, 90s)) << "the rows that existed at setup, through Kafka";
    drainer.stop();
  }
  auto writer = start_writer();
  auto cut = ChildProcess::spawn_pg2ch({.args = {"--config", config.string(), "run"},
                                        .env = {{"PG2CH_CRASH_AT", "outbox_copy_request_taken"}},
                                        .dir = db.dir(),
                                        .log_prefix = "cut"});
  std::this_thread::sleep_for(300ms);
  db.pg_exec("TRUNCATE sales_asia");
  ASSERT_EQ(cut.wait(120s), std::optional<int>(137)) << "did not die after the request was taken: " << cut.describe();
  PipelineRunner drainer(cfg);
  std::this_thread::sleep_for(1s);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, q, 90s)) << "the consumer's target without asia's old rows";
  EXPECT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  EXPECT_FALSE(drainer.failed()) << drainer.describe();
  EXPECT_FALSE(consumer.failed()) << consumer.describe();
  consumer.stop();
  drainer.stop();
}

}  // namespace
}  // namespace pg2ch::test
