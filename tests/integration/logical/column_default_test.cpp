// Columns added with a default while streaming (schema_evolution.h). A fast default (a constant:
// PostgreSQL records it in pg_attribute.attmissingval and rewrites nothing) is followed in place:
// the target column gets a DEFAULT that gives exactly that value to the rows written before it
// existed, which ClickHouse computes when it reads (and merges) their older parts; the table
// streams on, never copied. A volatile default rewrites the table with a value of its own in every
// row, which the stream does not carry: the table is copied again while the others stream. Both
// under a concurrent writer; a SIGKILL right after a volatile one (evolve_crash_test.cpp has the
// crashes around a fast default's ALTER).
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <functional>
#include <memory>
#include <thread>

#include "support/background_writer.h"
#include "support/child_process.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// Writes to `other` and `t` until finished: before `altered`, updates of t's old columns; after,
// `after(conn, i)` (rows of the new shape).
std::unique_ptr<BackgroundWriter> write_both(TestDatabase& db, const std::atomic<bool>& altered,
                                             std::function<void(pg::Connection&, int)> after) {
  return std::make_unique<BackgroundWriter>(
      db,
      [&altered, after = std::move(after)](pg::Connection& conn, int i) {
        conn.exec("INSERT INTO other VALUES (" + std::to_string(i) + ", 'o')");
        if (altered) {
          after(conn, i);
        } else {
          conn.exec("UPDATE t SET v = v || '.' WHERE id = " + std::to_string(i % 1000 + 1));
        }
      },
      2ms);
}

struct Started {
  TestDatabase db;
  std::filesystem::path config;
};

Started start_two_tables() {
  Started s{make_test_database(), {}};
  s.db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  s.db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  s.db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g");
  s.config = write_config_file(make_test_config(s.db), s.db.dir() / "pg2ch.toml");
  return s;
}

// `pg2ch run`, returned once t streams (a change of its columns is followed in place only then,
// or while it catches up past its copy point).
ChildProcess run_until_t_streams(TestDatabase& db, const std::filesystem::path& config, const std::string& tag) {
  auto run = pg2ch_cli(db, config, {"run"}, tag);
  EXPECT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << run.describe();
  return run;
}

constexpr const char* kDefaults =
    "ALTER TABLE t ADD COLUMN d int DEFAULT 7, ADD COLUMN s text NOT NULL DEFAULT 'it''s\ta', "
    "ADD COLUMN n numeric(10,2) DEFAULT 12.34, ADD COLUMN day date DEFAULT '2024-02-29', ADD COLUMN plain int, "
    "ADD COLUMN f double precision DEFAULT 0.1, ADD COLUMN u uuid DEFAULT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'";

TEST(LogicalColumnDefault, AFastDefaultIsAddedInPlaceAndTheRowsAlreadyThereReadItUnderAWriter) {
  auto [db, config] = start_two_tables();
  auto run = run_until_t_streams(db, config, "run");
  std::atomic<bool> altered{false};
  auto writer = write_both(db, altered, [](pg::Connection& conn, int i) {
    const std::string n = std::to_string(i);
    conn.exec("INSERT INTO t (id, v, d, plain) VALUES (" + std::to_string(1000 + i) + ", 'new', " + n + ", " + n + ")");
    conn.exec("INSERT INTO t (id, v, s, n) VALUES (" + std::to_string(100000 + i) + ", 'new', 'x', NULL)");
    conn.exec("UPDATE t SET v = v || '+' WHERE id = " + std::to_string(i % 1000 + 1));
  });
  std::this_thread::sleep_for(300ms);
  db.pg_exec(kDefaults);
  altered = true;
  std::this_thread::sleep_for(1500ms);
  writer->finish();

  const auto all = same_columns("t", "id, v, d, s, n, day, plain, f, u", "id");
  EXPECT_TRUE(wait_equal(db, all)) << run.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << run.describe();
  // Merged: the older parts get the column written from its DEFAULT.
  db.ch_exec("OPTIMIZE TABLE t FINAL");
  EXPECT_TRUE(wait_equal(db, all)) << run.describe();
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE id <= 1000 AND d = 7 AND toString(n) = '12.34'"),
            Rows{{"1000"}});
  EXPECT_EQ(pg2ch_table_state(db, config, "public.t"), "streaming ") << run.describe();
  EXPECT_NE(run.stderr_text().find("with the default the rows already there hold"), std::string::npos)
      << run.describe();
  EXPECT_EQ(run.stderr_text().find("copying"), std::string::npos) << "copied again: " << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

// A SIGKILL right after a fast default was followed (rows of the older shape read again get the
// default, no copy): evolve_crash_test.cpp, AddWithDefault.

TEST(LogicalColumnDefault, AVolatileDefaultCopiesTheTableAgainWhileTheOthersStream) {
  auto [db, config] = start_two_tables();
  auto run = run_until_t_streams(db, config, "run");
  std::atomic<bool> altered{false};
  auto writer = write_both(db, altered, [](pg::Connection& conn, int i) {
    conn.exec("INSERT INTO t (id, v) VALUES (" + std::to_string(1000 + i) + ", 'new')");
    conn.exec("UPDATE t SET v = v || '+', r = r + 1 WHERE id = " + std::to_string(i % 1000 + 1));
  });
  std::this_thread::sleep_for(300ms);
  db.pg_exec("ALTER TABLE t ADD COLUMN r int DEFAULT (random() * 1000000)::int");
  altered = true;
  std::this_thread::sleep_for(1500ms);
  writer->finish();

  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v, r", "id"))) << run.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << run.describe();
  EXPECT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << run.describe();
  EXPECT_NE(run.stderr_text().find("copying it again while the other tables stream"), std::string::npos)
      << run.describe();
  EXPECT_NE(run.stderr_text().find("with the table rewritten"), std::string::npos) << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

// Killed right after the table was sent to be copied again: the request is durable, so the next
// start copies it (its target re-created with the new column) and it ends equal.
TEST(LogicalColumnDefault, AKillRightAfterAVolatileDefaultCopiesTheTableAtTheNextStart) {
  auto [db, config] = start_two_tables();
  auto first = run_until_t_streams(db, config, "first");
  db.pg_exec("ALTER TABLE t ADD COLUMN r int DEFAULT (random() * 1000000)::int");
  db.pg_exec("INSERT INTO t (id, v) VALUES (5000, 'new')");
  ASSERT_TRUE(wait_until(
      [&] { return first.stderr_text().find("copying it again while the other tables stream") != std::string::npos; },
      60s))
      << first.describe();
  first.kill();

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  db.pg_exec("UPDATE t SET r = -r WHERE id % 7 = 0");
  db.pg_exec("INSERT INTO other VALUES (1, 'o')");
  // (The target has no column r until the copy re-created it.)
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << second.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v, r", "id"))) << second.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << second.describe();
  EXPECT_NE(second.stderr_text().find("copied 1 table(s) again"), std::string::npos) << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}


// A table catching up to its copy point (copied again by `pg2ch resync`, the stream not yet
// durable past the copy's snapshot) follows a change of its columns as a streaming one does,
// instead of stopping. Batches wait 10 s and another table is written all along, so what is
// durable stays behind the copy's snapshot point for up to that long.
TEST(LogicalColumnDefault, AColumnAddedWhileTheTableCatchesUpIsFollowedInPlace) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g");
  auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  cfg.batch.max_delay = cfg.batch.idle_flush = 10s;
  const auto holding = write_config_file(cfg, db.dir() / "pg2ch-holding.toml");
  auto run = pg2ch_cli(db, holding, {"run"}, "run");
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << run.describe();
  BackgroundWriter writer(
      db, [](pg::Connection& conn, int i) { conn.exec("INSERT INTO other VALUES (" + std::to_string(i) + ", 'o')"); },
      5ms);
  auto resync = pg2ch_cli(db, config, {"resync", "public.t"}, "resync");
  const bool requested = resync.wait(60s) == 0;
  const bool caught = wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "catching_up "; }, 60s);
  if (caught) {
    db.pg_exec("ALTER TABLE t ADD COLUMN extra int DEFAULT 5");
    db.pg_exec("INSERT INTO t VALUES (5000, 'new', 6)");
    db.pg_exec("UPDATE t SET v = 'after' WHERE id <= 3");
  }
  writer.finish();
  ASSERT_TRUE(requested) << resync.describe();
  ASSERT_TRUE(caught) << run.describe();
  ASSERT_TRUE(wait_until([&] { return run.stderr_text().find("added to its target in place") != std::string::npos; },
                         60s))
      << run.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v, extra", "id"))) << run.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << run.describe();
  EXPECT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << run.describe();
  const auto log = run.stderr_text();
  const auto copied = log.find("resync of public.t: copied");
  const auto added = log.find("added to its target in place");
  const auto streaming = log.find("table public.t caught up", copied);
  ASSERT_NE(copied, std::string::npos) << run.describe();
  EXPECT_LT(copied, added) << run.describe();
  EXPECT_LT(added, streaming) << "the change arrived only once the table streamed: " << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

}  // namespace
}  // namespace pg2ch::test
