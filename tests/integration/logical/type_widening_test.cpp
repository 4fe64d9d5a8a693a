// Column types widened while streaming are followed in place (capture/logical/type_widening.h,
// schema_evolution.h): under a concurrent writer the table streams on through two ALTERs and ends
// equal on every column, with values only the wider types hold; a SIGKILL right after the target
// was altered neither loses rows nor copies again (rows of the older types read again are widened
// as PostgreSQL widened them); a change that is not an exact widening, or one of a sorting-key
// column ClickHouse cannot retype, stops that table alone with its reason.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/child_process.h"
#include "support/evolve_crash.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(LogicalSchemaEvolution, TypesWidenedWhileStreamingAreFollowedInPlaceUnderAWriter) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, a smallint, b int, r real, s varchar(10), n numeric(10,2), "
             "note text)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, g % 1000, g, g + 0.5, 's' || g, g + 0.25, 'x' FROM generate_series(1, 1000) g");
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  // An ALTER is followed in place only once the table streams (not while it catches up to its copy).
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s));

  std::atomic<int> altered{0};  // how many of the two ALTERs are done
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    auto conn = db.pg_connect();
    for (int i = 1; writing; ++i) {
      const std::string n = std::to_string(i), old_id = std::to_string(i % 1000 + 1);
      conn.exec("INSERT INTO other VALUES (" + n + ", 'o')");
      switch (altered.load()) {
        case 0: conn.exec("UPDATE t SET a = a + 1, b = b + 1, note = note || '.' WHERE id = " + old_id); break;
        case 1:  // a and b widened: values only int and bigint hold
          conn.exec("INSERT INTO t VALUES (" + std::to_string(2000 + i) + ", " + std::to_string(40000 + i) + ", " +
                    std::to_string(5000000000LL + i) + ", 1.5, 'w', 2.25, 'ab')");
          conn.exec("UPDATE t SET b = b + 3000000000 WHERE id = " + old_id);
          break;
        default:  // r, s, n widened too
          conn.exec("INSERT INTO t VALUES (" + std::to_string(100000 + i) + ", " + std::to_string(70000 + i) + ", " +
                    std::to_string(-6000000000LL - i) + ", " + std::to_string(16777217 + 2 * i) + ", repeat('w', 60) || " +
                    n + ", 123456789012.25 + " + n + ", 'rsn')");
          conn.exec("UPDATE t SET r = 33554433, s = repeat('u', 90), n = n * 100000 WHERE id = " + old_id);
      }
      std::this_thread::sleep_for(2ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  db.pg_exec("ALTER TABLE t ALTER a TYPE int, ALTER b TYPE bigint");
  altered = 1;
  std::this_thread::sleep_for(700ms);
  db.pg_exec("ALTER TABLE t ALTER r TYPE double precision, ALTER s TYPE varchar(100), ALTER n TYPE numeric(20,2)");
  altered = 2;
  std::this_thread::sleep_for(1000ms);
  writing = false;
  writer.join();

  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, a, b, r, s, n, note", "id")));
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id")));
  EXPECT_EQ(pg2ch_table_state(db, config, "public.t"), "streaming ") << "the table stopped instead of evolving";
  EXPECT_EQ(db.ch_rows("SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 't' AND "
                       "name IN ('a', 'b', 'r') ORDER BY name"),
            (Rows{{"Nullable(Int32)"}, {"Nullable(Int64)"}, {"Nullable(Float64)"}}));
  runner.stop();
}

// The rows of the old types and the ALTER share a transaction, and batches wait 30 s: when the
// kill comes, the target is altered and the state records it, but the transaction's commit is
// not durable, so the slot gives all of it again, the rows of the old types first.
TEST(LogicalSchemaEvolution, AKillRightAfterATypeWasWidenedNeitherLosesRowsNorCopiesAgain) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, b int, s varchar(10), n numeric(10,2), r real)");
  db.pg_exec("INSERT INTO t SELECT g, g, 's' || g, g + 0.25, g + 0.5 FROM generate_series(1, 100) g");
  auto cfg = make_test_config(db, {"public.t"});
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  cfg.batch.max_delay = cfg.batch.idle_flush = 30s;
  const auto holding = write_config_file(cfg, db.dir() / "pg2ch-holding.toml");
  auto first = pg2ch_cli(db, holding, {"run"}, "first");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, b, s, n, r", "id"))) << first.describe();
  // An ALTER is followed in place only once the table streams (not while it catches up to its copy).
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << first.describe();
  db.pg_exec("BEGIN; UPDATE t SET b = -b - 2000000000, s = 'old', r = -r WHERE id <= 10; "
             "ALTER TABLE t ALTER b TYPE bigint, ALTER s TYPE text, ALTER n TYPE numeric(20,2), "
             "ALTER r TYPE double precision; "
             "INSERT INTO t VALUES (101, 5000000000, repeat('x', 40), 123456789012.25, 16777217); COMMIT");
  ASSERT_TRUE(wait_until([&] { return first.stderr_text().find("widened at the source") != std::string::npos; }, 60s))
      << first.describe();
  first.kill();
  ASSERT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE id = 101"), Rows{{"0"}}) << "the commit became durable";
  EXPECT_EQ(db.ch_rows("SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 't' AND "
                       "name = 'b'"),
            Rows{{"Nullable(Int64)"}});

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  db.pg_exec("UPDATE t SET b = b * 1000000000, r = r + 16777216 WHERE id % 5 = 0");
  expect_equal_without_a_copy(db, config, second, same_columns("t", "id, b, s, n, r", "id"));
}

TEST(LogicalSchemaEvolution, ATypeChangeThatIsNotAnExactWideningStopsThatTableAlone) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE retyped (id int PRIMARY KEY, v int)");
  db.pg_exec("CREATE TABLE rekeyed (id int PRIMARY KEY, v int)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO retyped SELECT g, g FROM generate_series(1, 10) g");
  db.pg_exec("INSERT INTO rekeyed SELECT g, g FROM generate_series(1, 10) g");
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  db.pg_exec("ALTER TABLE retyped ALTER v TYPE text");
  db.pg_exec("INSERT INTO retyped VALUES (11, 'eleven')");
  db.pg_exec("ALTER TABLE rekeyed ALTER id TYPE bigint");
  db.pg_exec("INSERT INTO rekeyed VALUES (5000000000, 11)");
  db.pg_exec("INSERT INTO other VALUES (1, 'after')");
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id")));
  std::string retyped, rekeyed;
  EXPECT_TRUE(wait_until(
      [&] {
        retyped = pg2ch_table_state(db, config, "public.retyped");
        rekeyed = pg2ch_table_state(db, config, "public.rekeyed");
        return retyped.starts_with("stopped") && rekeyed.starts_with("stopped");
      },
      60s))
      << retyped << "\n" << rekeyed;
  EXPECT_NE(retyped.find("integer to text is not a widening"), std::string::npos) << retyped;
  EXPECT_NE(rekeyed.find("sorting key"), std::string::npos) << rekeyed;
  EXPECT_EQ(db.ch_rows("SELECT count() FROM retyped FINAL WHERE _deleted = 0"), Rows{{"10"}}) << "nothing misread";
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
