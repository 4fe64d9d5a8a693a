// A whole copy through a Kafka sink begins with a TRUNCATE through the sink, in every producer
// mode (capture/shared/copy_truncate.h): the consumer empties its target before the copy's rows,
// so it ends equal to the source although earlier messages left it rows the copy does not hold.
// Real PostgreSQL → pg2ch producer (sink = kafka) → mock broker → pg2ch (mode = kafka) →
// ClickHouse, one consumer running throughout.
//   * logical: teardown, rows deleted while nothing runs, setup again on the same topic;
//   * logical, poll, outbox: `pg2ch resync` on the running producer after the consumer's target
//     diverged (rows written into it directly; poll: rows deleted at the source, which polling
//     never sees), under a concurrent writer.
// Before, the consumer kept the deleted rows and the rows written into it.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "capture/capture_mode.h"
#include "outbox/outbox_support.h"
#include "poll/poll_support.h"
#include "support/background_writer.h"
#include "support/kafka_route.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr int kRows = 300;

class KafkaCopyTruncate : public ::testing::Test {
 protected:
  void create_table() {
    db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text, n int)");
    db.pg_exec("INSERT INTO t SELECT g, 'v' || g, 0 FROM generate_series(1, " + std::to_string(kRows) + ") g");
  }
  // Updates, deletes and inserts on t (inserted ids above 1,000,000); `deletes` false for poll,
  // which never sees one.
  std::unique_ptr<BackgroundWriter> start_writer(bool deletes = true) {
    return std::make_unique<BackgroundWriter>(
        db,
        [deletes, rng = std::mt19937(11)](pg::Connection& c, int i) mutable {
          const auto id = std::to_string(static_cast<int>(rng() % kRows) + 1);
          c.exec("UPDATE t SET v = 'u" + std::to_string(i) + "' WHERE id = " + id);
          if (deletes && i % 5 == 0) c.exec("DELETE FROM t WHERE id = " + id);
          if (i % 3 == 0) c.exec("INSERT INTO t (id, v) VALUES (" + std::to_string(1000000 + i) + ", 'new')");
        },
        5ms);
  }
  // Rows the consumer's target should not have: one the source never had, one with a wrong value
  // at a version above any the producer writes.
  void diverge_consumer_target() {
    db.ch_exec("INSERT INTO t (id, v, _version, _deleted) VALUES (-1, 'never in PostgreSQL', 1, 0)");
    db.ch_exec("INSERT INTO t (id, v, _version, _deleted) VALUES (2, 'wrong', 18446744073709551000, 0)");
    ASSERT_FALSE(wait_equal(db, q, 500ms)) << "the divergence shows";
  }
  void resync(const config::Config& producer) {
    auto r = pg2ch_cli(db, write_config_file(producer, db.dir() / "producer.toml"), {"resync", "public.t"}, "resync");
    ASSERT_EQ(r.wait(60s), 0) << r.describe();
  }

  // The writer goes on for `writing` more, then both ends must agree and neither have failed.
  void end_equal(BackgroundWriter& writer, std::chrono::milliseconds writing, PipelineRunner& producer,
                 PipelineRunner& consumer, const char* what) {
    std::this_thread::sleep_for(writing);
    writer.finish();
    EXPECT_TRUE(wait_equal(db, q)) << what;
    EXPECT_FALSE(producer.failed()) << producer.describe();
    EXPECT_FALSE(consumer.failed()) << consumer.describe();
    consumer.stop();
    producer.stop();
  }

  TestDatabase db = make_test_database();
  KafkaBroker broker;
  KafkaRoute route = kafka_route(db, broker, {"public.t"}, 3);
  TableQuery q = same_columns("t", "id, v", "id");
};

TEST_F(KafkaCopyTruncate, LogicalSetupAgainOnTheSameTopicDropsTheRowsDeletedMeanwhile) {
  create_table();
  PipelineRunner consumer(route.consumer);
  {
    PipelineRunner producer(route.producer);
    // Streamed rows: at versions above the copy's 0, which a copy alone would not replace.
    db.pg_exec("UPDATE t SET v = 'streamed' WHERE id % 10 = 0");
    ASSERT_TRUE(wait_equal(db, q));
    producer.stop();
  }
  capture::capture_mode("logical").teardown(route.producer, false);
  db.pg_exec("DELETE FROM t WHERE id % 3 = 0");  // nothing captures it
  PipelineRunner producer(route.producer);
  auto writer = start_writer();
  end_equal(*writer, 1s, producer, consumer, "the consumer's target without the rows deleted while nothing ran");
}

// A running logical producer copies the table in the stream's order (kafka_online_resync_test.cpp
// has more of it); it is not restarted.
TEST_F(KafkaCopyTruncate, LogicalResyncRepairsTheConsumersTarget) {
  create_table();
  PipelineRunner consumer(route.consumer);
  PipelineRunner producer(route.producer);
  ASSERT_TRUE(wait_equal(db, q));
  auto writer = start_writer();
  ASSERT_NO_FATAL_FAILURE(diverge_consumer_target());
  ASSERT_NO_FATAL_FAILURE(resync(route.producer));
  end_equal(*writer, 3s, producer, consumer, "the consumer's target equal after the resync");
}

// A running poll producer reads the table again from its first row within seconds.
TEST_F(KafkaCopyTruncate, PollResyncDropsTheRowsDeletedAtTheSource) {
  create_updated_at_table(db, "t");
  db.pg_exec("INSERT INTO t (id, v) SELECT g, 'v' || g FROM generate_series(1, " + std::to_string(kRows) + ") g");
  auto cfg = route.producer;
  cfg.mode = "poll";
  cfg.poll.watermark = "updated_at";
  cfg.poll.interval = 100ms;
  PipelineRunner consumer(route.consumer);
  PipelineRunner producer(cfg);
  ASSERT_TRUE(wait_equal(db, q));
  db.pg_exec("DELETE FROM t WHERE id % 3 = 0");  // polling never sees a delete
  auto writer = start_writer(/*deletes=*/false);
  ASSERT_NO_FATAL_FAILURE(diverge_consumer_target());
  ASSERT_NO_FATAL_FAILURE(resync(cfg));
  end_equal(*writer, 2s, producer, consumer, "the consumer's target without the deleted rows after the resync");
}

// A running outbox drainer copies the table again between two drains.
TEST_F(KafkaCopyTruncate, OutboxResyncRepairsTheConsumersTarget) {
  create_table();
  auto cfg = outbox_config(db, {"public.t"});
  cfg.sink = "kafka";
  cfg.kafka = route.producer.kafka;
  outbox_setup(cfg);
  PipelineRunner consumer(route.consumer);
  PipelineRunner producer(cfg);
  ASSERT_TRUE(wait_equal(db, q));
  auto writer = start_writer();
  ASSERT_NO_FATAL_FAILURE(diverge_consumer_target());
  ASSERT_NO_FATAL_FAILURE(resync(cfg));
  end_equal(*writer, 3s, producer, consumer, "the consumer's target equal after the resync");
}

}  // namespace
}  // namespace pg2ch::test
