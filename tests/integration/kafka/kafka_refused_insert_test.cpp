// ClickHouse refusing one table's rows in mode = "kafka": its target changed by hand under a
// running consumer (a column dropped) stops that table only, while another table keeps being
// applied and committed under a concurrent writer and ends equal. Once the target is mended, the
// next start reads the stopped table's skipped messages again from the offsets it recorded (no
// config change needed: a refused insert is tried again at every start) and it ends equal row by
// row. Real PostgreSQL → pg2ch (logical, sink = kafka) → mock broker → pg2ch (mode = kafka) →
// ClickHouse.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/column_changes.h"
#include "support/kafka_route.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(KafkaConsumerRefusedInsert, ATargetThatRefusesRowsStopsOnlyItsTable) {
  auto db = make_test_database();
  KafkaBroker broker;
  db.pg_exec("CREATE TABLE a (id serial PRIMARY KEY, v text)");
  db.pg_exec("CREATE TABLE b (id serial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO a (v) SELECT 'a' || g FROM generate_series(1, 50) g");
  db.pg_exec("INSERT INTO b (v) SELECT 'b' || g FROM generate_series(1, 50) g");
  const auto route = kafka_route(db, broker, {"public.a", "public.b"}, 2);
  const auto& producer = route.producer;
  const auto& consumer = route.consumer;
  const auto config_file = write_config_file(consumer, db.dir() / "consumer.toml");
  const auto a = same_columns("a", "id, v", "id");
  const auto b = same_columns("b", "id, v", "id");
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table);
  };

  PipelineRunner prod(producer);
  prod.wait_ready();
  {
    PipelineRunner cons(consumer);
    ASSERT_TRUE(wait_equal(db, a)) << cons.describe();
    ASSERT_TRUE(wait_equal(db, b)) << cons.describe();
    ASSERT_TRUE(refuse_rows_until_stopped(db, config_file, cons));
    cons.stop();
  }

  // Mended by hand, same config: the next start reads its skipped messages again. The drop took
  // the column's values from the rows written before, which only a replay from the beginning
  // brings back (the other table's messages read again change nothing: older versions lose).
  db.ch_exec("ALTER TABLE a ADD COLUMN v Nullable(String) AFTER id");
  {
    PipelineRunner cons(consumer);
    auto writer = writer_of(db, "b");
    db.pg_exec("INSERT INTO a (v) VALUES ('streamed again')");
    db.pg_exec("UPDATE a SET v = v || '!' WHERE id % 7 = 0");
    ASSERT_TRUE(wait_until([&] { return state_of("public.a").state == "streaming"; }, 60s)) << cons.describe();
    // Every row written since the stop, the refused one included, and the deleted one gone.
    const std::string since = " WHERE (id > 50 OR id % 7 = 0 OR id IN (3, 4))";
    EXPECT_TRUE(wait_equal(db, {"SELECT id, v FROM a" + since + " ORDER BY id",
                                "SELECT id, v FROM a FINAL" + since + " AND _deleted = 0 ORDER BY id"}))
        << cons.describe();
    std::this_thread::sleep_for(500ms);
    cons.stop();
  }
  auto replay = pg2ch_cli(db, config_file, {"replay", "--from", "beginning"}, "replay");
  db.pg_exec("UPDATE a SET v = v || '?' WHERE id % 5 = 0");
  EXPECT_TRUE(wait_equal(db, a)) << replay.describe();
  EXPECT_TRUE(wait_equal(db, b)) << replay.describe();
  EXPECT_EQ(state_of("public.a").state, "streaming");
  EXPECT_EQ(replay.stop(), 0) << replay.describe();
  prod.stop();
}

}  // namespace
}  // namespace pg2ch::test
