// The initial snapshot through a sink without a bulk load (sink = "both": Kafka and ClickHouse,
// row by row through the ChangeSink) resumes per range after a SIGKILL mid-copy
// (capture/logical/snapshot_to_sink.h): each range is delivered and recorded before the next, so
// the second run copies what the first left, not the table; with a writer running throughout,
// ClickHouse and the folded topic both end equal to the source.
#include <gtest/gtest.h>

#include "kafka/kafka_fold.h"
#include "support/background_writer.h"
#include "support/copy_resume.h"
#include "support/log_text.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr long kRows = 120000;

// ~140 bytes a row: about 16 ranges of 1 MB; its topic has 3 partitions. Returns the config file.
std::filesystem::path big_table_through(TestDatabase& db, KafkaBroker& broker, const std::string& sink,
                                        const std::vector<std::string>& tables = {"public.big"}) {
  db.pg_exec("CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL, pad text NOT NULL)");
  db.pg_exec("INSERT INTO big SELECT g, g % 1000, repeat('p', 100) FROM generate_series(1, " + std::to_string(kRows) +
             ") g");
  broker.create_topic("pg2ch.public.big", 3);
  auto cfg = make_test_config(db, tables);
  cfg.sink = sink;
  cfg.kafka.brokers = broker.bootstrap();
  cfg.logical.snapshot_range_mb = 1;
  return write_config_file(cfg, db.dir() / "pg2ch.toml");
}

::testing::AssertionResult topic_equals_source(TestDatabase& db, KafkaBroker& broker, const std::string& table = "big",
                                               const std::vector<std::string>& columns = {"id", "v", "pad"}) {
  return folded_topic_equals_source(db, broker, table, columns);
}

TEST(KafkaSnapshotResume, KilledMidCopyThroughTheSinkResumesTheRangesNotDone) {
  auto db = make_test_database();
  KafkaBroker broker;
  const auto config = big_table_through(db, broker, "both");

  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    c.exec("UPDATE big SET v = v + 1, pad = pad || 'w' WHERE id = " + std::to_string(1 + (i * 4099L) % kRows));
    if (i % 4 == 0) c.exec("DELETE FROM big WHERE id = " + std::to_string(1 + (i * 7001L) % kRows));
    if (i % 3 == 0) c.exec("INSERT INTO big VALUES (" + std::to_string(kRows + i) + ", 2, 'w')");
  }, 2ms);
  auto first = pg2ch_cli(db, config, {"run"}, "first");
  ASSERT_TRUE(wait_until([&] { return occurrences(first.stderr_text(), "copied (range") >= 5; }, 120s, 20ms))
      << first.describe();
  first.kill();
  const std::size_t ranges_at_kill = occurrences(first.stderr_text(), "copied (range");
  auto second = pg2ch_cli(db, config, {"run"}, "second");
  ASSERT_TRUE(wait_until([&] { return second.stderr_text().find("initial snapshot done") != std::string::npos; },
                         120s))
      << second.describe();
  writer.finish();

  const std::string log = second.stderr_text();
  ASSERT_NE(log.find("initial snapshot resumed"), std::string::npos) << log;
  const long total = number_after(log, "initial snapshot resumed: [0-9]+ of");
  EXPECT_LT(static_cast<long>(ranges_at_kill), total - 3) << "the copy ran too far to tell a resume from a restart";
  const long done_before = number_after(log, "range\\(s\\) \\(");
  const long copied_now = number_after(log, "initial snapshot done:");
  expect_copied_about_what_was_left(kRows, ranges_at_kill, total, done_before, copied_now, log);

  EXPECT_TRUE(wait_equal(db, same_columns("big", "id, v, pad", "id"), 120s)) << second.describe();
  EXPECT_TRUE(topic_equals_source(db, broker));
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

// A copy cut short that cannot resume (the table changed meanwhile) starts over: the rows the cut
// copy sent are with the consumers already, so the new copy begins with a TRUNCATE to every
// partition, and rows deleted in between do not stay. Before, the folded topic (and so a
// consumer's ClickHouse) kept them, found by the fault suite (tests/fault).
TEST(KafkaSnapshotResume, ACopyThatStartsOverSendsATruncateFirst) {
  auto db = make_test_database();
  KafkaBroker broker;
  const auto config = big_table_through(db, broker, "kafka");
  auto first = pg2ch_cli(db, config, {"run"}, "first");
  ASSERT_TRUE(wait_until([&] { return occurrences(first.stderr_text(), "copied (range") >= 3; }, 120s, 20ms))
      << first.describe();
  first.kill();
  // Rows the first copy sent, deleted; and a change that stops the copy from resuming.
  db.pg_exec("DELETE FROM big WHERE id <= 2000");
  db.pg_exec("ALTER TABLE big ADD COLUMN extra int");
  auto second = pg2ch_cli(db, config, {"run"}, "second");
  ASSERT_TRUE(wait_until([&] { return second.stderr_text().find("initial snapshot done") != std::string::npos; },
                         120s))
      << second.describe();
  EXPECT_NE(second.stderr_text().find("a TRUNCATE of 1 table(s) to copy was sent through the sink first"),
            std::string::npos)
      << second.describe();
  EXPECT_TRUE(topic_equals_source(db, broker));
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

// A table copied again at a start (`pg2ch resync` on a producer, whose copy through the sink runs
// at its next start; table_copy.h) and killed mid-copy resumes per range: the third run copies
// what the second left, not the table. Before, such a copy was one transaction and the run after
// a kill copied the whole table again. A writer on the table and on another one throughout; both
// folded topics (and with "both", the ClickHouse targets) end equal to the source.
void copy_again_killed_mid_copy_resumes(const std::string& sink) {
  auto db = make_test_database();
  KafkaBroker broker;
  db.pg_exec("CREATE TABLE other (id serial PRIMARY KEY, v text NOT NULL)");
  broker.create_topic("pg2ch.public.other", 2);
  const auto config = big_table_through(db, broker, sink, {"public.big", "public.other"});
  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    c.exec("UPDATE big SET v = v + 1, pad = pad || 'w' WHERE id = " + std::to_string(1 + (i * 4099L) % kRows));
    if (i % 4 == 0) c.exec("DELETE FROM big WHERE id = " + std::to_string(1 + (i * 7001L) % kRows));
    if (i % 3 == 0) c.exec("INSERT INTO big VALUES (" + std::to_string(kRows + i) + ", 2, 'w')");
    c.exec("INSERT INTO other (v) VALUES ('o" + std::to_string(i) + "')");
  }, 2ms);
  {
    auto first = pg2ch_cli(db, config, {"run"}, "first");
    ASSERT_TRUE(wait_until([&] { return first.stderr_text().find("initial snapshot done") != std::string::npos; },
                           120s))
        << first.describe();
    ASSERT_EQ(first.stop(SIGTERM), 0) << first.describe();
  }
  auto resync = pg2ch_cli(db, config, {"resync", "public.big"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  auto second = pg2ch_cli(db, config, {"run"}, "second");
  ASSERT_TRUE(wait_until([&] { return occurrences(second.stderr_text(), "copied (range") >= 5; }, 120s, 20ms))
      << second.describe();
  second.kill();
  const std::size_t ranges_at_kill = occurrences(second.stderr_text(), "copied (range");
  auto third = pg2ch_cli(db, config, {"run"}, "third");
  ASSERT_TRUE(wait_until([&] { return third.stderr_text().find("table(s) again:") != std::string::npos; }, 120s))
      << third.describe();
  // The other table streams again, under the writer.
  const long other_before = std::stol(db.pg_rows("SELECT count(*) FROM other")[0][0]);
  ASSERT_TRUE(wait_until(
      [&] { return static_cast<long>(fold(broker.read_all("pg2ch.public.other")).rows.size()) > other_before; }, 60s,
      200ms))
      << third.describe();
  writer.finish();

  const std::string log = third.stderr_text();
  ASSERT_NE(log.find("copy again resumed"), std::string::npos) << log;
  const long total = number_after(log, "copy again resumed: [0-9]+ of");
  EXPECT_LT(static_cast<long>(ranges_at_kill), total - 3) << "the copy ran too far to tell a resume from a restart";
  const long done_before = number_after(log, "copy again resumed: [0-9]+ of [0-9]+ range\\(s\\) \\(");
  const long copied_now = number_after(log, "copied 1 table\\(s\\) again:");
  expect_copied_about_what_was_left(kRows, ranges_at_kill, total, done_before, copied_now, log);

  EXPECT_TRUE(topic_equals_source(db, broker));
  EXPECT_TRUE(topic_equals_source(db, broker, "other", {"id", "v"}));
  if (sink == "both") {
    EXPECT_TRUE(wait_equal(db, same_columns("big", "id, v, pad", "id"), 120s)) << third.describe();
    EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"), 120s)) << third.describe();
  }
  EXPECT_EQ(third.stop(SIGTERM), 0) << third.describe();
}

TEST(KafkaSnapshotResume, ACopyAgainKilledMidCopyResumesTheRangesNotDone) {
  copy_again_killed_mid_copy_resumes("kafka");
}

TEST(KafkaSnapshotResume, ACopyAgainIntoKafkaAndClickHouseKilledMidCopyResumesTheRangesNotDone) {
  copy_again_killed_mid_copy_resumes("both");
}

}  // namespace
}  // namespace pg2ch::test
