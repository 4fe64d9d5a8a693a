// Columns changed at the source while the Kafka consumer (mode = "kafka") was not running
// (issue 12; capture/kafka_consumer/start_columns.h): the producer keeps publishing, a writer
// keeps writing t and another table before and after the ALTER, so events of both shapes wait in
// the topics; the consumer's start follows the change in place (its target altered, the queued
// events applied exactly), or, where the queued events cannot be applied exactly, stops t alone
// with the reason while the other table consumes on. Before, every such start stopped as a whole
// ("does not match what pg2ch writes"). Also a SIGKILL of the consumer right after its start's
// ALTER, key-only events, kinds set to "ignore", and the fix of a table stopped at start.
// Real PostgreSQL → pg2ch producer → mock broker → pg2ch consumer → ClickHouse.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "support/child_process.h"
#include "support/column_changes.h"
#include "support/kafka_route.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

struct OfflineKind {
  const char* name;
  const char* ddl;
  const char* rows;         // of the new shape, never touching ids 51..60
  const char* stop_reason;  // nullptr: followed in place; else a part of t's stop reason
  bool renames = false;     // followed only where ClickHouse can rename (20.4 and later)
  void (*configure)(config::Config& consumer) = nullptr;
  bool key_only = false;  // the producer publishes key-only events (the consumer fetches the rows)
};

constexpr OfflineKind kOfflineKinds[] = {
    {"AddColumn", "ALTER TABLE t ADD COLUMN a int", "UPDATE t SET a = id * 10 WHERE id % 3 = 0 AND id <= 50",
     nullptr},
    {"AddColumnWithDefault", "ALTER TABLE t ADD COLUMN d int DEFAULT 7", "INSERT INTO t (d) VALUES (8)", nullptr},
    {"DropColumn", "ALTER TABLE t DROP COLUMN old", "INSERT INTO t (n) VALUES (3)", nullptr},
    {"RenameColumn", "ALTER TABLE t RENAME COLUMN s TO s2",
     "UPDATE t SET s2 = 'renamed' WHERE id % 4 = 0 AND id <= 50", nullptr, true},
    {"WidenSmallintToInt", "ALTER TABLE t ALTER COLUMN n TYPE int", "UPDATE t SET n = 100000 + id WHERE id = 4",
     nullptr},
    {"WidenIntToBigint", "ALTER TABLE t ALTER COLUMN w TYPE bigint", "UPDATE t SET w = 5000000000 + id WHERE id = 5",
     nullptr},
    {"WidenVarcharToText", "ALTER TABLE t ALTER COLUMN s TYPE text", "UPDATE t SET s = repeat('x', 40) WHERE id = 7",
     nullptr},
    {"WidenNumericPrecision", "ALTER TABLE t ALTER COLUMN p TYPE numeric(14,2)",
     "UPDATE t SET p = 123456789012.25 WHERE id = 8", nullptr},
    {"DropNotNull", "ALTER TABLE t ALTER COLUMN w DROP NOT NULL", "UPDATE t SET w = NULL WHERE id = 9", nullptr},
    // Not exact from queued events: t stops alone.
    {"WidenRealToDouble", "ALTER TABLE t ALTER COLUMN r TYPE double precision", "UPDATE t SET r = 0.1 WHERE id = 6",
     "from real to double precision"},
    {"AddColumnVolatileDefault", "ALTER TABLE t ADD COLUMN z double precision DEFAULT random()",
     "UPDATE t SET z = 1 WHERE id = 3", "rewritten"},
    // The consumer's logical.on_* settings, each for its own kind only.
    {"AddColumnOnColumnAddedStop", "ALTER TABLE t ADD COLUMN a int", "UPDATE t SET a = 1 WHERE id = 2",
     "logical.on_column_added is \"stop\"", false,
     [](config::Config& c) { c.logical.on_column_added = "stop"; }},
    {"AddColumnOnColumnDroppedStop", "ALTER TABLE t ADD COLUMN a int", "UPDATE t SET a = 1 WHERE id = 2", nullptr,
     false, [](config::Config& c) { c.logical.on_column_dropped = "stop"; }},
    // Key-only events: the queued ones are answered with the rows as they are after the change.
    {"AddAndDropColumnKeyOnly", "ALTER TABLE t ADD COLUMN a int DEFAULT 7; ALTER TABLE t DROP COLUMN old",
     "UPDATE t SET a = id * 10 WHERE id % 3 = 0 AND id <= 50", nullptr, false, nullptr, true},
};

void PrintTo(const OfflineKind& kind, std::ostream* os) { *os << kind.name; }

struct Route {
  TestDatabase db = make_test_database();
  KafkaBroker broker;
  std::unique_ptr<PipelineRunner> producer;
  config::Config producer_config;
  std::filesystem::path consumer_config;
};

// t and other, the producer running, and the consumer run once until both are in ClickHouse
// (its state records t's columns) and stopped again.
void start_route(Route& r, const OfflineKind& kind) {
  auto& db = r.db;
  create_route_tables(db);
  auto [producer, consumer] = kafka_route(db, r.broker, {"public.t", "public.other"}, 2);
  if (kind.key_only) producer.kafka.format = "key";
  r.producer_config = producer;
  r.producer = std::make_unique<PipelineRunner>(producer);
  r.producer->wait_ready();
  if (kind.configure) kind.configure(consumer);
  r.consumer_config = write_config_file(consumer, db.dir() / "consumer.toml");
  auto first = pg2ch_cli(db, r.consumer_config, {"run"}, "first");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, n, r, s, p, w, old", "id"))) << first.describe();
  ASSERT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << first.describe();
  ASSERT_EQ(first.stop(SIGTERM), 0) << first.describe();
}

// Under a writer of t and other (valid before and after the change), with the consumer stopped:
// the change and rows of the new shape. Every event waits in the topics.
void change_while_stopped(Route& r, const OfflineKind& kind) {
  auto writer = writer_of(r.db, "other", /*also_t=*/true);
  std::this_thread::sleep_for(300ms);
  r.db.pg_exec(kind.ddl);
  r.db.pg_exec(kind.rows);
  std::this_thread::sleep_for(300ms);
}

Rows untouched_versions(TestDatabase& db) {
  return db.ch_rows("SELECT id, max(_version) FROM t WHERE id BETWEEN 51 AND 60 GROUP BY id ORDER BY id");
}

// The consumer started after the change: t and other end equal on every live column (a later
// change of t too), t streams, the rows no event touched keep their version.
void expect_followed(Route& r, ChildProcess& consumer, const Rows& versions) {
  auto& db = r.db;
  ASSERT_TRUE(wait_target_has(db, "t", live_columns(db, "t"))) << consumer.describe();
  db.pg_exec("UPDATE t SET n = n + 1 WHERE id % 7 = 0 AND id <= 50");
  EXPECT_TRUE(wait_equal(db, same_columns("t", live_columns(db, "t"), "id"))) << consumer.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << consumer.describe();
  EXPECT_EQ(pg2ch_table_state(db, r.consumer_config, "public.t"), "streaming ") << consumer.describe();
  EXPECT_EQ(pg2ch_table_state(db, r.consumer_config, "public.other"), "streaming ");
  EXPECT_EQ(untouched_versions(db), versions) << "rows no event changed were written again";
  EXPECT_TRUE(consumer.running()) << consumer.describe();
}

bool follows(TestDatabase& db, const OfflineKind& kind) {
  return !kind.stop_reason && (!kind.renames || clickhouse_can_rename(db));
}

class KafkaConsumerOfflineColumnChange : public ::testing::TestWithParam<OfflineKind> {};

TEST_P(KafkaConsumerOfflineColumnChange, IsFollowedAtStartOrStopsItsTableAlone) {
  const OfflineKind& kind = GetParam();
  Route r;
  ASSERT_NO_FATAL_FAILURE(start_route(r, kind));
  auto& db = r.db;
  const Rows versions = untouched_versions(db);
  ASSERT_EQ(versions.size(), 10u);
  change_while_stopped(r, kind);
  auto consumer = pg2ch_cli(db, r.consumer_config, {"run"}, "second");
  if (follows(db, kind)) {
    expect_followed(r, consumer, versions);
  } else {
    const auto state_of = [&](const std::string& table) {
      return status_table_row(pg2ch_status_json(db, r.consumer_config, "status", /*attention_ok=*/true), table);
    };
    ASSERT_TRUE(wait_until([&] { return state_of("public.t").state == "stopped"; }, 60s)) << consumer.describe();
    const std::string reason = state_of("public.t").last_error;
    EXPECT_NE(reason.find(kind.renames ? "20.4" : kind.stop_reason), std::string::npos) << reason;
    db.pg_exec("UPDATE other SET v = 'after the stop' WHERE id = 3");
    EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << consumer.describe();
    EXPECT_EQ(state_of("public.other").state, "streaming");
    EXPECT_TRUE(consumer.running()) << consumer.describe();
  }
  EXPECT_EQ(consumer.stop(SIGTERM), 0) << consumer.describe();
  r.producer->stop();
}

INSTANTIATE_TEST_SUITE_P(Kinds, KafkaConsumerOfflineColumnChange, ::testing::ValuesIn(kOfflineKinds),
                         [](const auto& info) { return std::string(info.param.name); });

// The start that follows the change is killed right after it altered the target, before it read
// a message: the next start finds the change recorded, alters nothing twice, and applies the
// queued events of both shapes exactly.
class KafkaConsumerOfflineColumnChangeCrash : public ::testing::TestWithParam<OfflineKind> {};

TEST_P(KafkaConsumerOfflineColumnChangeCrash, AKillRightAfterTheStartsAlterLosesNothing) {
  const OfflineKind& kind = GetParam();
  Route r;
  if (kind.renames && !clickhouse_can_rename(r.db)) GTEST_SKIP() << "ClickHouse before 20.4 cannot rename a column";
  ASSERT_NO_FATAL_FAILURE(start_route(r, kind));
  auto& db = r.db;
  const Rows versions = untouched_versions(db);
  change_while_stopped(r, kind);
  auto dying = ChildProcess::spawn_pg2ch({.args = {"--config", r.consumer_config.string(), "run"},
                                          .env = {{"PG2CH_CRASH_AT", "reapply_after_target_alter"}},
                                          .dir = db.dir(),
                                          .log_prefix = "dying"});
  ASSERT_EQ(dying.wait(60s), std::optional<int>(137)) << "did not die after the ALTER: " << dying.describe();
  auto consumer = pg2ch_cli(db, r.consumer_config, {"run"}, "third");
  expect_followed(r, consumer, versions);
  EXPECT_EQ(consumer.stop(SIGTERM), 0) << consumer.describe();
  r.producer->stop();
}

INSTANTIATE_TEST_SUITE_P(Kinds, KafkaConsumerOfflineColumnChangeCrash,
                         ::testing::Values(kOfflineKinds[0], kOfflineKinds[1], kOfflineKinds[2], kOfflineKinds[3],
                                           kOfflineKinds[5], kOfflineKinds[8]),
                         [](const auto& info) { return std::string(info.param.name); });

const OfflineKind& kind_named(std::string_view name) {
  for (const auto& k : kOfflineKinds) {
    if (k.name == name) return k;
  }
  throw std::logic_error("no such kind");
}

// Every kind set to "ignore" at the consumer, and a change of each kind made while it was stopped:
// its start keeps them as the running consumer does (logical/ignored_changes.h) and t streams on:
// the added column left out with its values, the renamed one written under its old name, the
// widened one at its old type, NOT NULL kept, the dropped one kept, NULL from then on. Before, t
// stopped (logical.on_column_added is "ignore"). No RENAME COLUMN is needed, so 18.16 too. The
// widening is one without a rewrite: a rewrite beside an ADD COLUMN stops the table, any setting.
TEST(KafkaConsumerOfflineIgnoredChanges, AreKeptAsWhileRunningAndTheTableStreamsOn) {
  constexpr OfflineKind kIgnored{
      "Ignored",
      "ALTER TABLE t ADD COLUMN a int; ALTER TABLE t RENAME COLUMN s TO s2; ALTER TABLE t ALTER COLUMN p TYPE "
      "numeric(14,2); ALTER TABLE t ALTER COLUMN n DROP NOT NULL; ALTER TABLE t DROP COLUMN old",
      "UPDATE t SET a = id * 10, s2 = 'renamed', p = p + 1000.5 WHERE id % 3 = 0 AND id <= 50", nullptr, false,
      [](config::Config& c) {
        c.logical.on_column_added = c.logical.on_column_renamed = c.logical.on_type_widened = "ignore";
        c.logical.on_not_null_dropped = c.logical.on_column_dropped = "ignore";
      }};
  Route r;
  ASSERT_NO_FATAL_FAILURE(start_route(r, kIgnored));
  auto& db = r.db;
  change_while_stopped(r, kIgnored);
  auto consumer = pg2ch_cli(db, r.consumer_config, {"run"}, "second");
  const TableQuery t_kept{"SELECT id, n, r, s2, p, w FROM t ORDER BY id",
                          "SELECT id, n, r, s, p, w FROM t FINAL WHERE _deleted = 0 ORDER BY id"};
  ASSERT_TRUE(wait_equal(db, t_kept)) << consumer.describe();
  db.pg_exec("UPDATE t SET n = n + 1, s2 = 'later' WHERE id % 7 = 0 AND id <= 50");
  EXPECT_TRUE(wait_equal(db, t_kept)) << consumer.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << consumer.describe();
  EXPECT_EQ(db.ch_rows("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 't' "
                       "AND name IN ('a', 's2', 'n', 'p', 'old') ORDER BY name"),
            (Rows{{"n", "Int16"}, {"old", "Nullable(String)"}, {"p", "Nullable(Decimal(8, 2))"}}));
  EXPECT_EQ(db.ch_rows("SELECT id, old FROM t FINAL WHERE id IN (3, 55) ORDER BY id"),
            (Rows{{"3", kNull}, {"55", "o55"}}))
      << "the dropped column: NULL from the drop on, kept where no event came";
  EXPECT_EQ(pg2ch_table_state(db, r.consumer_config, "public.t"), "streaming ") << consumer.describe();
  EXPECT_TRUE(consumer.running()) << consumer.describe();
  EXPECT_EQ(consumer.stop(SIGTERM), 0) << consumer.describe();
  r.producer->stop();
}

// The fix a table stopped at the consumer's start names (here for real → double precision, which
// the queued events cannot give) brings it back equal, while the other table streams on: its
// target and view dropped, a replay from a moment after the change, and the producer's copy of
// the table into the topics again. Before, the replay left the table stopped. The mock broker
// finds no offset by time (librdkafka 2.0's mock answers -1: the replay starts at the end), so the
// copy comes after the replay started, and nothing is written in the restart's gap; on a broker
// that does, the copy may come first, as the fix says.
TEST(KafkaConsumerStoppedAtStart, TheFixItsStatusNamesBringsItBackEqual) {
  const OfflineKind& kind = kind_named("WidenRealToDouble");
  Route r;
  ASSERT_NO_FATAL_FAILURE(start_route(r, kind));
  auto& db = r.db;
  change_while_stopped(r, kind);
  auto writer = writer_of(db, "other");
  // Streams on: ClickHouse gets the row of `other` written last.
  const auto other_streams = [&] {
    const auto last = db.pg_rows("SELECT max(id) FROM other").at(0).at(0);
    return wait_until([&] { return db.ch_rows("SELECT count() FROM other WHERE id = " + last) == Rows{{"1"}}; },
                      60s);
  };
  auto consumer = pg2ch_cli(db, r.consumer_config, {"run"}, "stopped");
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, r.consumer_config, "public.t").starts_with("stopped"); },
                         60s))
      << consumer.describe();
  EXPECT_TRUE(other_streams()) << consumer.describe();
  auto status = pg2ch_cli(db, r.consumer_config, {"status"}, "status");
  ASSERT_EQ(status.wait(60s), 3) << status.describe();
  for (const auto* step : {"`pg2ch resync public.t`", "drop its ClickHouse target", "t__current",
                           "`pg2ch replay --from time:T`"}) {
    EXPECT_NE(status.stdout_text().find(step), std::string::npos) << step << " in " << status.stdout_text();
  }
  writer->finish();
  ASSERT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << consumer.describe();
  const std::string after_change = db.pg_rows(
      "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")[0][0];
  db.ch_exec("DROP TABLE t__current");
  db.ch_exec("DROP TABLE t");
  ASSERT_EQ(consumer.stop(SIGTERM), 0) << consumer.describe();
  auto replay = pg2ch_cli(db, r.consumer_config, {"replay", "--from", "time:" + after_change}, "replay");
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, r.consumer_config, "public.t") == "streaming "; }, 60s))
      << "the replay takes it back: " << replay.describe();
  // Its four partitions taken, each at the replay's start: what is written from now on arrives.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto log = replay.stderr_text();
        std::size_t found = 0;
        for (auto at = log.find("kafka replay: "); at != std::string::npos; at = log.find("kafka replay: ", at + 1)) {
          ++found;
        }
        return found == 4;
      },
      60s))
      << replay.describe();
  writer = writer_of(db, "other");
  EXPECT_TRUE(other_streams()) << replay.describe();
  // A producer with sink = "kafka" copies the table at its next start.
  r.producer->stop();
  auto resync =
      pg2ch_cli(db, write_config_file(r.producer_config, db.dir() / "producer.toml"), {"resync", "public.t"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  r.producer = std::make_unique<PipelineRunner>(r.producer_config);
  const auto t_all = same_columns("t", live_columns(db, "t"), "id");
  ASSERT_TRUE(wait_equal(db, t_all)) << replay.describe();
  db.pg_exec("UPDATE t SET r = r + 1 WHERE id % 7 = 0");
  EXPECT_TRUE(wait_equal(db, t_all)) << replay.describe();
  writer->finish();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << replay.describe();
  EXPECT_EQ(pg2ch_table_state(db, r.consumer_config, "public.t"), "streaming ") << replay.describe();
  EXPECT_EQ(pg2ch_table_state(db, r.consumer_config, "public.other"), "streaming ");
  EXPECT_EQ(replay.stop(SIGTERM), 0) << replay.describe();
  r.producer->stop();
}

}  // namespace
}  // namespace pg2ch::test
