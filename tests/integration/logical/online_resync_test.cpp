// `pg2ch resync TABLE` on a running pipeline (capture/logical/online_resync.h): the table is
// copied again while every table, that one included, keeps streaming under concurrent writers;
// its target ends equal to the source row by row (rows the target should never have had are
// gone), the others are never interrupted. A TRUNCATE in the middle of the copy, and a SIGKILL
// in the middle of it, still end equal.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// Inserts, updates and deletes on `t` (ids above 1,000,000 for inserts) and `other`.
BackgroundWriter writers(TestDatabase& db, int max_id) {
  return BackgroundWriter(
      db,
      [max_id, rng = std::mt19937(7)](pg::Connection& conn, int i) mutable {
        const int id = static_cast<int>(rng() % static_cast<unsigned>(max_id)) + 1;
        conn.exec("BEGIN");
        conn.exec("UPDATE t SET v = 'u" + std::to_string(i) + "', n = n + 1 WHERE id = " + std::to_string(id));
        if (i % 5 == 0) conn.exec("DELETE FROM t WHERE id = " + std::to_string(id + 1));
        if (i % 3 == 0) conn.exec("INSERT INTO t VALUES (" + std::to_string(1000000 + i) + ", 'new', 0)");
        conn.exec("INSERT INTO other (v) VALUES ('o" + std::to_string(i) + "')");
        conn.exec("COMMIT");
      },
      std::chrono::milliseconds(2));
}

struct Fixture {
  explicit Fixture(int rows) : db(make_test_database()) {
    db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text, n int)");
    db.pg_exec("CREATE TABLE other (id serial PRIMARY KEY, v text)");
    db.pg_exec("INSERT INTO t SELECT g, 'v' || g, 0 FROM generate_series(1, " + std::to_string(rows) + ") g");
    cfg = make_test_config(db, {"public.t", "public.other"});
    config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  }
  std::string state_of(const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table).state;
  }
  void resync() {
    auto r = pg2ch_cli(db, config_file, {"resync", "public.t"}, "resync");
    ASSERT_EQ(r.wait(60s), 0) << r.describe();
  }
  // Rows ClickHouse should not have: one the source never had, one with a wrong value at a
  // version above any the stream will write for it soon.
  void damage_target() {
    db.ch_exec("INSERT INTO t (id, v, n, _version, _deleted) VALUES (-1, 'never in PostgreSQL', 0, 1, 0)");
    db.ch_exec("INSERT INTO t (id, v, n, _version, _deleted) VALUES (2, 'wrong', -5, 18446744073709551000, 0)");
  }
  TestDatabase db;
  config::Config cfg;
  std::filesystem::path config_file;
  const TableQuery t_rows = same_columns("t", "id, v, n", "id");
  const TableQuery other_rows = same_columns("other", "id, v", "id");
};

TEST(LogicalOnlineResync, ATableIsCopiedAgainWhileEveryTableStreams) {
  Fixture f(20000);
  PipelineRunner runner(f.cfg);
  ASSERT_TRUE(wait_equal(f.db, f.t_rows));
  f.damage_target();
  ASSERT_FALSE(wait_equal(f.db, f.t_rows, 1s)) << "the damage shows";

  auto writer = writers(f.db, 20000);
  std::this_thread::sleep_for(300ms);
  f.resync();
  ASSERT_TRUE(wait_until([&] { return f.db.ch_rows("SELECT count() FROM t WHERE id = -1") == Rows{{"0"}}; }, 60s))
      << "the target was emptied by the resync";
  ASSERT_TRUE(wait_until([&] { return f.state_of("public.t") == "streaming"; }, 120s));
  std::this_thread::sleep_for(500ms);  // changes after the copy, too
  writer.finish();
  EXPECT_TRUE(wait_equal(f.db, f.t_rows));
  EXPECT_TRUE(wait_equal(f.db, f.other_rows));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  EXPECT_EQ(f.state_of("public.other"), "streaming");
  runner.stop();
}

// A transaction with an xid held open: the copy's temporary slot waits for it before it can
// export a snapshot, so the table stays `copying` until the test lets it go.
class HeldTransaction {
 public:
  explicit HeldTransaction(TestDatabase& db) : conn_(db.pg_connect()) {
    conn_.exec("BEGIN");
    conn_.exec("INSERT INTO other (v) VALUES ('held')");
  }
  void commit() { conn_.exec("COMMIT"); }
  void rollback() { conn_.exec("ROLLBACK"); }

 private:
  pg::Connection conn_;
};

TEST(LogicalOnlineResync, ATruncateWhileTheTableIsCopiedTakesTheCopyAgain) {
  Fixture f(5000);
  PipelineRunner runner(f.cfg);
  ASSERT_TRUE(wait_equal(f.db, f.t_rows));
  HeldTransaction held(f.db);
  f.resync();
  ASSERT_TRUE(wait_until([&] { return f.state_of("public.t") == "copying"; }, 60s));
  // Applied by the stream while the copy waits for its snapshot: the copy is taken again from a
  // new snapshot (needed for a TRUNCATE committed after the snapshot while the copy writes, which
  // cannot be timed here; this one, before it, goes the same way and must end equal too).
  f.db.pg_exec("TRUNCATE t");
  f.db.pg_exec("INSERT INTO t VALUES (1, 'after the truncate', 1), (2, 'after', 2)");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(f.state_of("public.t"), "copying");
  held.commit();
  ASSERT_TRUE(wait_until([&] { return f.state_of("public.t") == "streaming"; }, 120s));
  EXPECT_TRUE(wait_equal(f.db, f.t_rows));
  EXPECT_TRUE(wait_equal(f.db, f.other_rows));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// The kill lands while the copy waits for its snapshot (the held transaction): the table is
// copying, its target already emptied.
TEST(LogicalOnlineResync, KilledWhileCopyingTheTableIsCopiedAgainAtTheNextStart) {
  Fixture f(5000);
  {
    auto run = pg2ch_cli(f.db, f.config_file, {"run"}, "run");
    ASSERT_TRUE(wait_equal(f.db, f.t_rows)) << run.describe();
    f.damage_target();
    HeldTransaction held(f.db);
    {
      auto writer = writers(f.db, 5000);
      f.resync();
      ASSERT_TRUE(wait_until([&] { return f.state_of("public.t") == "copying"; }, 60s)) << run.describe();
      std::this_thread::sleep_for(300ms);
      run.kill();
    }
    held.rollback();
  }
  EXPECT_EQ(f.state_of("public.t"), "copying");
  PipelineRunner runner(f.cfg);
  EXPECT_TRUE(wait_equal(f.db, f.t_rows));
  EXPECT_TRUE(wait_equal(f.db, f.other_rows));
  EXPECT_TRUE(wait_until([&] { return f.state_of("public.t") == "streaming"; }, 60s));
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
