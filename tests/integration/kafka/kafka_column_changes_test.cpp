// Columns changed at the source while the Kafka route streams (issue 12; capture/kafka_consumer/
// column_follower.h): the producer (logical, sink = "kafka" or "both") keeps publishing the table
// with its new columns, and the consumer (mode = "kafka") alters its ClickHouse target before the
// first event of the new shape. Under a concurrent writer, through ADD COLUMN (with and without a
// fast default), type widenings (int2 → int4 → int8, real → double, varchar(n) → text, numeric
// precision up), DROP NOT NULL, DROP COLUMN and RENAME COLUMN, PostgreSQL and the consumer's
// target (and the producer's own target with "both") end equal on every column of every row. A
// SIGKILL of the consumer right after it altered its target (every kind), or right before (its
// start alters the target again), neither loses nor garbles a row.
// Debezium events and key-only events (whose rows the consumer fetches with the new columns).
// Real PostgreSQL → pg2ch producer → mock broker → pg2ch consumer → ClickHouse.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/column_changes.h"
#include "support/evolve_crash.h"
#include "support/kafka_route.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// t's live columns at the source, and the names its ClickHouse targets give them (a rename
// ignored on 18.16 keeps the old name there).
struct Columns {
  std::string pg;
  std::string ch;
};

// Waits until PostgreSQL's `table` equals `target`'s on `cols`, every row (ordered by id).
::testing::AssertionResult equal_in(TestDatabase& db, TestDatabase& target, const Columns& cols,
                                    const std::string& table = "t") {
  Rows pg, ch;
  const bool same = wait_until(
      [&] {
        try {
          pg = db.pg_rows("SELECT " + cols.pg + " FROM " + table + " ORDER BY id");
          ch = target.ch_rows("SELECT " + cols.ch + " FROM " + table + " FINAL WHERE _deleted = 0 ORDER BY id");
          return pg == ch;
        } catch (const Error&) {
          return false;  // a column not there yet
        }
      },
      60s, 100ms);
  if (same) return ::testing::AssertionSuccess();
  auto out = ::testing::AssertionFailure() << "on " << cols.pg << ": PostgreSQL has " << pg.size()
                                           << " rows, ClickHouse " << ch.size();
  for (std::size_t i = 0, shown = 0; i < std::min(pg.size(), ch.size()) && shown < 3; ++i) {
    if (pg[i] == ch[i]) continue;
    ++shown;
    out << "\n  row " << i << ":";
    for (std::size_t c = 0; c < std::min(pg[i].size(), ch[i].size()); ++c) {
      if (pg[i][c] != ch[i][c]) out << " col " << c << " pg=[" << pg[i][c] << "] ch=[" << ch[i][c] << "]";
    }
  }
  return out;
}

class KafkaRouteColumnChanges : public ::testing::TestWithParam<const char*> {};

TEST_P(KafkaRouteColumnChanges, AreFollowedByProducerAndConsumerUnderAWriter) {
  // "kafka", "both", or "key": sink = "kafka" with key-only events (the consumer fetches the rows).
  const std::string param = GetParam();
  const std::string sink = param == "key" ? "kafka" : param;
  auto db = make_test_database();
  auto target = make_test_database("consumer");  // the consumer's ClickHouse database
  KafkaBroker broker;
  create_route_tables(db);
  auto [producer, consumer] = kafka_route(db, broker, {"public.t", "public.other"}, 2);
  producer.sink = sink;
  if (param == "key") producer.kafka.format = "key";
  consumer.clickhouse.database = target.name();
  // ClickHouse before 20.4 cannot rename a column: both targets keep its old name there.
  const bool renames = clickhouse_can_rename(db);
  if (!renames) producer.logical.on_column_renamed = consumer.logical.on_column_renamed = "ignore";
  PipelineRunner prod(producer);
  prod.wait_ready();
  auto cons = pg2ch_cli(db, write_config_file(consumer, db.dir() / "consumer.toml"), {"run"}, "consumer");

  std::vector<TestDatabase*> targets = {&target};
  if (sink == "both") targets.push_back(&db);
  const auto all_equal = [&](const Columns& cols) -> ::testing::AssertionResult {
    for (auto* ch : targets) {
      if (auto same = equal_in(db, *ch, cols); !same) {
        return same << (ch == &db ? " (the producer's target)" : " (the consumer's target)") << "\n"
                    << cons.describe();
      }
    }
    return ::testing::AssertionSuccess();
  };
  Columns cols{"id, n, r, s, p, w, old", "id, n, r, s, p, w, old"};
  ASSERT_TRUE(all_equal(cols));

  struct Step {
    const char* ddl;
    const char* rows;  // of the new shape
    Columns cols;
  };
  const std::string s2 = renames ? "s2" : "s";
  const std::vector<Step> steps = {
      {"ALTER TABLE t ADD COLUMN a int", "UPDATE t SET a = id * 10 WHERE id % 3 = 0",
       {"id, n, r, s, p, w, old, a", "id, n, r, s, p, w, old, a"}},
      {"ALTER TABLE t ADD COLUMN d int DEFAULT 7", "INSERT INTO t (d) VALUES (8)",
       {"id, n, r, s, p, w, old, a, d", "id, n, r, s, p, w, old, a, d"}},
      {"ALTER TABLE t ALTER COLUMN n TYPE int", "UPDATE t SET n = 100000 + id WHERE id = 4",
       {"id, n, r, s, p, w, old, a, d", "id, n, r, s, p, w, old, a, d"}},
      {"ALTER TABLE t ALTER COLUMN n TYPE bigint", "UPDATE t SET n = 5000000000 + id WHERE id = 5",
       {"id, n, r, s, p, w, old, a, d", "id, n, r, s, p, w, old, a, d"}},
      {"ALTER TABLE t ALTER COLUMN r TYPE double precision", "UPDATE t SET r = 0.1 WHERE id = 6",
       {"id, n, r, s, p, w, old, a, d", "id, n, r, s, p, w, old, a, d"}},
      {"ALTER TABLE t ALTER COLUMN s TYPE text", "UPDATE t SET s = repeat('x', 40) WHERE id = 7",
       {"id, n, r, s, p, w, old, a, d", "id, n, r, s, p, w, old, a, d"}},
      {"ALTER TABLE t ALTER COLUMN p TYPE numeric(14,2)", "UPDATE t SET p = 123456789012.25 WHERE id = 8",
       {"id, n, r, s, p, w, old, a, d", "id, n, r, s, p, w, old, a, d"}},
      {"ALTER TABLE t ALTER COLUMN w DROP NOT NULL", "UPDATE t SET w = NULL WHERE id = 9",
       {"id, n, r, s, p, w, old, a, d", "id, n, r, s, p, w, old, a, d"}},
      {"ALTER TABLE t DROP COLUMN old", "INSERT INTO t (a) VALUES (11)",
       {"id, n, r, s, p, w, a, d", "id, n, r, s, p, w, a, d"}},
      {"ALTER TABLE t RENAME COLUMN s TO s2", "UPDATE t SET s2 = 'renamed' WHERE id % 4 = 0",
       {"id, n, r, s2, p, w, a, d", "id, n, r, " + s2 + ", p, w, a, d"}},
  };
  for (const auto& step : steps) {
    {
      // Writes to t and other before, during and after the change (valid before and after each).
      auto writer = writer_of(db, "other", /*also_t=*/true);
      std::this_thread::sleep_for(200ms);
      db.pg_exec(step.ddl);
      db.pg_exec(step.rows);
      std::this_thread::sleep_for(300ms);
    }
    ASSERT_TRUE(all_equal(step.cols)) << "after " << step.ddl;
    ASSERT_TRUE(cons.running()) << cons.describe();
  }
  db.pg_exec("UPDATE t SET a = -1 WHERE id % 5 = 0");
  EXPECT_TRUE(all_equal(steps.back().cols));
  for (auto* ch : targets) EXPECT_TRUE(equal_in(db, *ch, {"id, v", "id, v"}, "other")) << "the other table";
  EXPECT_TRUE(equal_in(db, target, {"id, n, r, s2, p, w, a, d", "id, n, r, " + s2 + ", p, w, a, d"}));
  // The dropped column is kept with what it held, NULL in every row written from the drop on.
  for (auto* ch : targets) {
    EXPECT_EQ(ch->ch_rows("SELECT old FROM t FINAL WHERE id = 51"), (Rows{{"o51"}}));
    EXPECT_EQ(ch->ch_rows("SELECT count() FROM t FINAL WHERE id <= 50 AND old IS NOT NULL"), (Rows{{"0"}}));
  }
  const auto consumer_config = db.dir() / "consumer.toml";
  EXPECT_EQ(pg2ch_table_state(db, consumer_config, "public.t"), "streaming ");
  EXPECT_EQ(cons.stop(SIGTERM), 0) << cons.describe();
  prod.stop();
}

INSTANTIATE_TEST_SUITE_P(Sinks, KafkaRouteColumnChanges, ::testing::Values("kafka", "both", "key"),
                         [](const auto& info) { return std::string(info.param); });

// The consumer dies at `place` (right before or right after its target's ALTER), before the
// offsets of the messages it read were committed: the start after alters the target again where it
// is behind, and reads them again (rows of the old shape and of the new one) into it, neither
// copying nor garbling a row.
void expect_consumer_survives_a_kill(const EvolveCrashKind& kind, const std::string& place) {
  auto db = make_test_database();
  KafkaBroker broker;
  if (kind.renames && !clickhouse_can_rename(db)) GTEST_SKIP() << "ClickHouse before 20.4 cannot rename a column";
  create_evolve_crash_table(db);
  auto [producer, consumer] = kafka_route(db, broker, {"public.t"}, 2);
  PipelineRunner prod(producer);
  prod.wait_ready();
  const auto config = write_config_file(consumer, db.dir() / "consumer.toml");
  auto first = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "run"}, .env = {{"PG2CH_CRASH_AT", place}}, .dir = db.dir(),
       .log_prefix = "first"});
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v, n, m, w, r", "id"))) << first.describe();
  {
    auto writer = std::make_unique<BackgroundWriter>(
        db,
        [](pg::Connection& conn, int i) {
          conn.exec("UPDATE t SET v = v || '.' WHERE id = " + std::to_string(1 + i % 90));
        },
        5ms);
    std::this_thread::sleep_for(300ms);
    db.pg_exec(std::string("BEGIN; UPDATE t SET v = 'old shape' WHERE id <= 10; ") + kind.alter + "; " + kind.after +
               "; COMMIT");
    ASSERT_EQ(first.wait(60s), std::optional<int>(137)) << "did not die at " << place << ": " << first.describe();
    auto second = pg2ch_cli(db, config, {"run"}, "second");
    std::this_thread::sleep_for(500ms);
    writer->finish();
    db.pg_exec("UPDATE t SET v = v || '+' WHERE id % 7 = 0");
    // Until the start has altered it again, the target may lack a column the comparison reads.
    EXPECT_TRUE(wait_target_has(db, "t", kind.columns)) << second.describe();
    EXPECT_TRUE(wait_equal(db, same_columns("t", kind.columns, "id"))) << second.describe();
    EXPECT_EQ(pg2ch_table_state(db, config, "public.t"), "streaming ") << second.describe();
    if (place == "evolve_before_target_alter") {
      EXPECT_NE(second.stderr_text().find("altering it again"), std::string::npos) << second.describe();
    }
    EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
  }
  prod.stop();
}

class KafkaConsumerColumnChangeCrash : public ::testing::TestWithParam<EvolveCrashKind> {};

TEST_P(KafkaConsumerColumnChangeCrash, AKillRightAfterTheAlterLosesNothing) {
  expect_consumer_survives_a_kill(GetParam(), "evolve_after_target_alter");
}

TEST(KafkaConsumerColumnChangeCrashBefore, AKillRightBeforeTheAlterIsAlteredAgainAtStart) {
  expect_consumer_survives_a_kill(kEvolveCrashKinds[1], "evolve_before_target_alter");  // AddWithDefault
}

INSTANTIATE_TEST_SUITE_P(Kinds, KafkaConsumerColumnChangeCrash, ::testing::ValuesIn(kEvolveCrashKinds),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace pg2ch::test
