// `pg2ch resync TABLE` on a running logical producer whose sink has no bulk load (sink = "kafka"
// | "both"): the table is copied again while every table streams, its rows sent through the
// producer's own sink in the stream's order, chunk by chunk between watermarks
// (capture/logical/watermark_copy.h); the producer is never restarted. Writers on the table
// (updates that move rows between pages, deletes, inserts) and on another table run throughout.
// Each test ends with:
//   * the table's topic folded in offset order (the last event of each key, truncates applied: what
//     log compaction keeps, what an upserting consumer ends with) equal to the source, so no
//     copied row landed after a newer change of its key;
//   * with "kafka", the pg2ch consumer's ClickHouse target, made to diverge before the resync,
//     equal to the source row by row; with "both", the producer's own ClickHouse target so;
//   * the other table equal, having streamed on.
// A TRUNCATE or a VACUUM FULL in the middle of the copy (both start it over), and a kill in the
// middle of it (the next start copies the ranges not done), end equal too; a value the target
// cannot hold, met by the copy, stops only its table. Before, a running producer with these sinks
// copied the table only at its next start.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "kafka/kafka_fold.h"
#include "support/background_writer.h"
#include "support/kafka_route.h"
#include "support/log_text.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr int kRows = 80000;  // ~110 bytes a row: about ten chunks of 1 MB

constexpr const char* kCopyDone = "in the stream's order; it streams";
constexpr const char* kChunkSent = "sent in the stream's order";

class KafkaOnlineResync : public ::testing::Test {
 protected:
  // The producer's config for `sink`, written to producer.toml.
  void prepare(const std::string& sink) {
    db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text, n int, pad text, price numeric(10,2) DEFAULT 1.5)");
    db.pg_exec("CREATE TABLE other (id serial PRIMARY KEY, v text)");
    db.pg_exec("INSERT INTO t SELECT g, 'v' || g, 0, repeat('p', 80) FROM generate_series(1, " +
               std::to_string(kRows) + ") g");
    route.producer.sink = sink;
    route.producer.logical.snapshot_range_mb = 1;
    producer_file = write_config_file(route.producer, db.dir() / "producer.toml");
  }
  std::unique_ptr<BackgroundWriter> start_writer() {
    return std::make_unique<BackgroundWriter>(
        db,
        [rng = std::mt19937(5)](pg::Connection& c, int i) mutable {
          const auto id = std::to_string(static_cast<int>(rng() % kRows) + 1);
          c.exec("BEGIN");
          c.exec("UPDATE t SET v = 'u" + std::to_string(i) + "', n = n + 1, pad = pad || 'w' WHERE id = " + id);
          if (i % 5 == 0) c.exec("DELETE FROM t WHERE id = " + std::to_string(static_cast<int>(rng() % kRows) + 1));
          if (i % 3 == 0) c.exec("INSERT INTO t VALUES (" + std::to_string(1000000 + i) + ", 'new', 0, 'p')");
          c.exec("INSERT INTO other (v) VALUES ('o" + std::to_string(i) + "')");
          c.exec("COMMIT");
        },
        2ms);
  }
  void resync() {
    auto r = pg2ch_cli(db, producer_file, {"resync", "public.t"}, "resync");
    ASSERT_EQ(r.wait(60s), 0) << r.describe();
    EXPECT_NE(r.stdout_text().find("within seconds"), std::string::npos) << r.stdout_text();
  }
  // Rows a target should not have: one the source never had, one with a wrong value at a version
  // above any the producer writes.
  void diverge(const std::string& table) {
    db.ch_exec("INSERT INTO " + table + " (id, v, n, pad, _version, _deleted) VALUES (-1, 'never', 0, '', 1, 0)");
    db.ch_exec("INSERT INTO " + table +
               " (id, v, n, pad, _version, _deleted) VALUES (2, 'wrong', -5, '', 18446744073709551000, 0)");
    ASSERT_FALSE(wait_equal(db, t_rows, 500ms)) << "the divergence shows";
  }
  bool copy_done(const ChildProcess& producer) {
    return wait_until([&] { return producer.stderr_text().find(kCopyDone) != std::string::npos; }, 180s);
  }
  // Once `target` (the consumer's or the producer's ClickHouse table t) holds the source, diverges
  // it, resyncs t on the running `producer` under the writer (which goes on a little after the
  // copy), and expects the targets and topics equal to the source.
  void resync_ends_equal(const ChildProcess& producer, const char* target) {
    ASSERT_TRUE(wait_equal(db, t_rows, 120s)) << producer.describe();
    ASSERT_NO_FATAL_FAILURE(diverge("t"));
    {
      auto writer = start_writer();
      std::this_thread::sleep_for(300ms);
      ASSERT_NO_FATAL_FAILURE(resync());
      ASSERT_TRUE(copy_done(producer)) << producer.describe();
      std::this_thread::sleep_for(500ms);  // changes after the copy, too
    }
    EXPECT_TRUE(wait_equal(db, t_rows)) << target << " after the resync";
    EXPECT_TRUE(wait_equal(db, other_rows));
    expect_topics_equal();
  }
  // The kafka route (`before` run on the source first) with the consumer running; once the
  // consumer holds t, resyncs t under the writer and runs `sql` once `chunks` chunks were sent;
  // then expects the copy to start over and end, and every target and topic equal to the source.
  void resync_meeting(int chunks, const std::string& sql, const std::string& before = {}) {
    prepare("kafka");
    if (!before.empty()) db.pg_exec(before);
    PipelineRunner consumer(route.consumer);
    auto producer = pg2ch_cli(db, producer_file, {"run"}, "producer");
    ASSERT_TRUE(wait_equal(db, t_rows, 120s)) << producer.describe();
    {
      auto writer = start_writer();
      ASSERT_NO_FATAL_FAILURE(resync());
      ASSERT_TRUE(wait_until(
          [&] { return occurrences(producer.stderr_text(), kChunkSent) >= static_cast<std::size_t>(chunks); }, 120s,
          10ms))
          << producer.describe();
      ASSERT_EQ(producer.stderr_text().find(kCopyDone), std::string::npos) << "the copy ended before: " << sql;
      db.pg_exec(sql);
      ASSERT_TRUE(copy_done(producer)) << producer.describe();
      std::this_thread::sleep_for(500ms);
    }
    EXPECT_TRUE(wait_equal(db, t_rows)) << "the consumer's target";
    EXPECT_TRUE(wait_equal(db, other_rows));
    expect_topics_equal();
    EXPECT_NE(producer.stderr_text().find("copying it again from the start"), std::string::npos)
        << producer.describe();
    EXPECT_FALSE(consumer.failed()) << consumer.describe();
    EXPECT_EQ(producer.stop(SIGTERM), 0) << producer.describe();
    consumer.stop();
  }
  // The topics folded equal the source.
  void expect_topics_equal() {
    EXPECT_TRUE(folded_topic_equals_source(db, broker, "t", {"id", "v", "n", "pad"}));
    EXPECT_TRUE(folded_topic_equals_source(db, broker, "other", {"id", "v"}));
  }

  TestDatabase db = make_test_database();
  KafkaBroker broker;
  KafkaRoute route = kafka_route(db, broker, {"public.t", "public.other"}, 3);
  std::filesystem::path producer_file;
  const TableQuery t_rows = same_columns("t", "id, v, n, pad", "id");
  const TableQuery other_rows = same_columns("other", "id, v", "id");
};

TEST_F(KafkaOnlineResync, ARunningProducerRepairsTheConsumersTargetInTheStreamsOrder) {
  prepare("kafka");
  PipelineRunner consumer(route.consumer);
  auto producer = pg2ch_cli(db, producer_file, {"run"}, "producer");
  ASSERT_NO_FATAL_FAILURE(resync_ends_equal(producer, "the consumer's target"));
  const std::string log = producer.stderr_text();
  EXPECT_GE(occurrences(log, kChunkSent), 5u) << "the copy went in several chunks";
  EXPECT_EQ(log.find("restart pg2ch"), std::string::npos) << log;
  EXPECT_FALSE(consumer.failed()) << consumer.describe();
  EXPECT_EQ(producer.stop(SIGTERM), 0) << producer.describe();
  consumer.stop();
}

TEST_F(KafkaOnlineResync, IntoKafkaAndClickHouseBothEndEqual) {
  prepare("both");
  auto producer = pg2ch_cli(db, producer_file, {"run"}, "producer");
  ASSERT_NO_FATAL_FAILURE(resync_ends_equal(producer, "the producer's ClickHouse target"));
  EXPECT_EQ(producer.stop(SIGTERM), 0) << producer.describe();
}

// Committed after some chunks: the ones sent before it are emptied by it in every partition, one
// read before it and met after it leaves its rows out, and the next finds the table rewritten, so
// the copy starts over.
TEST_F(KafkaOnlineResync, ATruncateWhileTheTableIsCopiedEndsEqual) {
  resync_meeting(3, "BEGIN; TRUNCATE t; INSERT INTO t SELECT g, 'after', 1, 'a' FROM generate_series(1, 500) g; COMMIT");
}

// VACUUM FULL between two chunks moves rows (toward the table's start, two thirds of it being
// dead) into ranges already copied, with no change in the stream: the copy starts over. Before,
// those rows were never copied.
TEST_F(KafkaOnlineResync, AVacuumFullWhileTheTableIsCopiedStartsTheCopyOver) {
  resync_meeting(2, "VACUUM FULL t", "DELETE FROM t WHERE id % 3 <> 0");
}

// A value the producer's ClickHouse target cannot hold (sink = "both": NaN into a Decimal), met
// in a chunk: the table stops naming the row, as when the stream meets one; the producer and the
// other table go on. Before, the error stopped the producer.
TEST_F(KafkaOnlineResync, ABadValueInAChunkStopsOnlyItsTable) {
  prepare("both");
  auto producer = pg2ch_cli(db, producer_file, {"run"}, "producer");
  ASSERT_TRUE(wait_equal(db, t_rows, 120s)) << producer.describe();
  const auto state = [&] { return status_table_row(pg2ch_status_json(db, producer_file, "status", true), "public.t"); };
  db.pg_exec("UPDATE t SET price = 'NaN' WHERE id = 50");
  ASSERT_TRUE(wait_until([&] { return state().state == "stopped"; }, 60s)) << producer.describe();
  db.pg_exec("UPDATE t SET price = 1 WHERE id = 50");
  db.pg_exec("UPDATE t SET price = 'NaN' WHERE id = 70");
  ASSERT_NO_FATAL_FAILURE(resync());
  ASSERT_TRUE(wait_until(
      [&] { return producer.stderr_text().find("resync of public.t: the table stopped") != std::string::npos; }, 120s))
      << producer.describe();
  const auto row = state();
  EXPECT_EQ(row.state, "stopped");
  EXPECT_NE(row.last_error.find("id=70"), std::string::npos) << row.last_error;
  db.pg_exec("INSERT INTO other (v) VALUES ('after')");
  EXPECT_TRUE(wait_equal(db, other_rows)) << "the other table streams on";
  EXPECT_TRUE(producer.running()) << producer.describe();
  EXPECT_EQ(producer.stop(SIGTERM), 0) << producer.describe();
}

// PG2CH_CRASH_AT=copy_range_recorded: the producer dies (as a SIGKILL there would) right after the
// copy recorded its first range durable. The next start copies the ranges not done, not the table.
TEST_F(KafkaOnlineResync, KilledMidCopyTheNextStartCopiesTheRangesNotDone) {
  prepare("kafka");
  PipelineRunner consumer(route.consumer);
  {
    auto first = pg2ch_cli(db, producer_file, {"run"}, "first");
    ASSERT_TRUE(wait_equal(db, t_rows, 120s)) << first.describe();
    ASSERT_EQ(first.stop(SIGTERM), 0) << first.describe();
  }
  ASSERT_NO_FATAL_FAILURE(diverge("t"));
  auto writer = start_writer();
  auto cut = ChildProcess::spawn_pg2ch({.args = {"--config", producer_file.string(), "run"},
                                        .env = {{"PG2CH_CRASH_AT", "copy_range_recorded"}},
                                        .dir = db.dir(),
                                        .log_prefix = "cut"});
  // Streaming before the request: a table asked for before the start is copied by the start.
  ASSERT_TRUE(wait_until([&] { return cut.stderr_text().find("streaming from slot") != std::string::npos; }, 60s))
      << cut.describe();
  ASSERT_NO_FATAL_FAILURE(resync());
  ASSERT_EQ(cut.wait(120s), std::optional<int>(137)) << "did not die after a range: " << cut.describe();
  auto next = pg2ch_cli(db, producer_file, {"run"}, "next");
  ASSERT_TRUE(wait_until([&] { return next.stderr_text().find("copy again resumed") != std::string::npos; }, 120s))
      << next.describe();
  std::this_thread::sleep_for(1s);
  writer->finish();
  EXPECT_TRUE(wait_equal(db, t_rows)) << "the consumer's target: " << next.describe();
  EXPECT_TRUE(wait_equal(db, other_rows));
  expect_topics_equal();
  const std::string log = next.stderr_text();
  EXPECT_GE(number_after(log, "copy again resumed: "), 1) << log;
  EXPECT_FALSE(consumer.failed()) << consumer.describe();
  EXPECT_EQ(next.stop(SIGTERM), 0) << next.describe();
  consumer.stop();
}

}  // namespace
}  // namespace pg2ch::test
