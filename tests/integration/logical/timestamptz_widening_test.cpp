// ALTER COLUMN ... TYPE timestamptz of a timestamp column while streaming (logical mode), under a
// concurrent writer (capture/logical/type_widening.h timestamp_changes_zone, schema_evolution.cpp
// rewrite_refusal). Under TimeZone UTC PostgreSQL keeps the stored microseconds (no rewrite: the
// same relfilenode), so pg2ch follows in place: rows written before the ALTER keep their versions
// (a copy would write them again with version 0). Under another zone PostgreSQL rewrites the table,
// shifting every value already there: the table is copied again while the other streams, and both
// end equal, every column and row. A kill right after the in-place change neither loses rows nor
// copies again.
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

// t's columns with ts as microseconds since 1970 UTC (its ClickHouse form differs by flavour).
TableQuery t_in_microseconds(TestDatabase& db) {
  const std::string ch_ts = db.ch().capabilities().datetime64 ? "toUnixTimestamp64Micro(ts)" : "ts";
  return {"SELECT id, (extract(epoch FROM ts) * 1000000)::bigint, note FROM t ORDER BY id",
          "SELECT id, " + ch_ts + ", note FROM t FINAL WHERE _deleted = 0 ORDER BY id"};
}

// The smallest newest version among rows 1-100, which were updated before the ALTER and never
// after: above 0 while they keep the versions the stream gave them, 0 once a copy wrote them again.
std::string lowest_version_of_rows_updated_before(TestDatabase& db) {
  return db.ch_rows("SELECT min(v) FROM (SELECT id, max(_version) AS v FROM t WHERE id <= 100 GROUP BY id)")
      .at(0)
      .at(0);
}

// Streams t and other, updates rows 1-100 and waits for them, then alters ts under `zone` while a
// writer changes t (rows 101-1000 and new ones) and other; returns once both are equal again.
void alter_to_timestamptz_under_a_writer(const std::string& zone, bool in_place) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, ts timestamp NOT NULL, note text NOT NULL)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, '2021-03-04 05:06:07.123456'::timestamp + g * interval '1 hour 1.5 second', "
             "'n' || g FROM generate_series(1, 1000) g");
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s));
  db.pg_exec("UPDATE t SET note = note || '!' WHERE id <= 100");
  ASSERT_TRUE(wait_equal(db, t_in_microseconds(db))) << runner.describe();
  ASSERT_NE(lowest_version_of_rows_updated_before(db), "0");

  std::atomic<bool> altered{false}, writing{true};
  std::thread writer([&] {
    auto conn = db.pg_connect();
    for (int i = 1; writing; ++i) {
      const std::string n = std::to_string(i);
      conn.exec("INSERT INTO other VALUES (" + n + ", 'o')");
      if (!altered) {
        conn.exec("UPDATE t SET ts = ts + interval '1 minute', note = note || '.' WHERE id = " +
                  std::to_string(101 + i % 400));
      } else {  // a literal with an offset: the same instant whatever the writer's TimeZone
        conn.exec("INSERT INTO t VALUES (" + std::to_string(2000 + i) + ", '2022-01-01 10:00:00.5+02'::timestamptz + " +
                  n + " * interval '1.25 second', 'after')");
        conn.exec("UPDATE t SET ts = ts + interval '1 second', note = note || '+' WHERE id = " +
                  std::to_string(501 + i % 500));
      }
      std::this_thread::sleep_for(2ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  db.pg_exec("BEGIN; SET LOCAL TimeZone = '" + zone + "'; ALTER TABLE t ALTER ts TYPE timestamptz; COMMIT");
  altered = true;
  std::this_thread::sleep_for(1000ms);
  writing = false;
  writer.join();

  EXPECT_TRUE(wait_equal(db, t_in_microseconds(db))) << runner.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << runner.describe();
  EXPECT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << pg2ch_table_state(db, config, "public.t");
  if (in_place) {
    EXPECT_NE(lowest_version_of_rows_updated_before(db), "0") << "t was copied again";
  } else {
    EXPECT_EQ(lowest_version_of_rows_updated_before(db), "0") << "t was not copied again";
  }
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

TEST(LogicalTimestamptz, AnAlterUnderUtcIsFollowedInPlaceUnderAWriter) {
  alter_to_timestamptz_under_a_writer("UTC", /*in_place=*/true);
}

TEST(LogicalTimestamptz, AnAlterUnderAnotherZoneCopiesTheTableAgainWhileTheOtherStreams) {
  alter_to_timestamptz_under_a_writer("America/New_York", /*in_place=*/false);
}

// The rows of the old type and the ALTER (under UTC) share a transaction, and batches wait 30 s:
// when the kill comes the state records ts as timestamptz, but the commit is not durable, so the
// slot gives all of it again, the rows of the old type first: written as the same instants (the
// stored microseconds, read as UTC), no copy.
TEST(LogicalTimestamptz, AKillRightAfterTheAlterNeitherLosesRowsNorCopiesAgain) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, ts timestamp NOT NULL, note text NOT NULL)");
  db.pg_exec("INSERT INTO t SELECT g, '2021-03-04 05:06:07.123456'::timestamp + g * interval '1 hour 1.5 second', "
             "'n' || g FROM generate_series(1, 100) g");
  auto cfg = make_test_config(db, {"public.t"});
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  cfg.batch.max_delay = cfg.batch.idle_flush = 30s;
  const auto holding = write_config_file(cfg, db.dir() / "pg2ch-holding.toml");
  auto first = pg2ch_cli(db, holding, {"run"}, "first");
  ASSERT_TRUE(wait_equal(db, t_in_microseconds(db))) << first.describe();
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << first.describe();
  db.pg_exec("BEGIN; UPDATE t SET ts = ts - interval '7 days', note = 'old' WHERE id <= 10; "
             "SET LOCAL TimeZone = 'UTC'; ALTER TABLE t ALTER ts TYPE timestamptz; "
             "INSERT INTO t VALUES (101, '2022-01-01 10:00:00.5+02', 'new'); COMMIT");
  ASSERT_TRUE(wait_until([&] { return first.stderr_text().find("widened at the source") != std::string::npos; }, 60s))
      << first.describe();
  first.kill();
  ASSERT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE id = 101"), Rows{{"0"}}) << "the commit became durable";

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  db.pg_exec("UPDATE t SET ts = ts + interval '1 second' WHERE id % 5 = 0");
  expect_equal_without_a_copy(db, config, second, t_in_microseconds(db));
}

}  // namespace
}  // namespace pg2ch::test
