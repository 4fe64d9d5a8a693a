// The seed template's classic bug: a transaction takes watermark value 10, another takes 11 and
// commits, the poll reads 11 and moves past it, then 10 commits. Row 10 must still arrive: the
// visibility horizon rescans the window once the earlier transaction has ended.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "support/servers.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

bool ch_has(TestDatabase& db, const std::string& table, const std::string& v) {
  return db.ch_rows("SELECT count() FROM " + table + " FINAL WHERE v = '" + v + "'") == Rows{{"1"}};
}

TEST(PollOutOfOrder, IdWatermarkLateCommitArrives) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id bigserial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t (v) SELECT 'seed' || g FROM generate_series(1, 9) g");
  PipelineRunner runner(watermark_config(db, "poll", "t", "id"));
  const auto q = same_columns("t", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q));

  auto a = db.pg_connect();
  auto b = db.pg_connect();
  a.exec("BEGIN");
  ASSERT_EQ(a.query("INSERT INTO t (v) VALUES ('a') RETURNING id").text(0, 0), "10");
  b.exec("BEGIN");
  ASSERT_EQ(b.query("INSERT INTO t (v) VALUES ('b') RETURNING id").text(0, 0), "11");
  b.exec("COMMIT");
  ASSERT_TRUE(wait_until([&] { return ch_has(db, "t", "b"); }, 30s)) << "row 11 (committed first)";
  std::this_thread::sleep_for(500ms);  // several polls pass row 11 while 10 is still open
  EXPECT_FALSE(ch_has(db, "t", "a"));
  a.exec("COMMIT");
  EXPECT_TRUE(wait_equal(db, q, 30s)) << "row 10, committed after 11 was read";
  runner.stop();
}

// updated_at = now() is the transaction's start: A writes first and commits last.
TEST(PollOutOfOrder, UpdatedAtWatermarkWriterHoldingXid) {
  auto db = make_test_database();
  create_updated_at_table(db, "t");
  db.pg_exec("INSERT INTO t (v) VALUES ('seed')");
  PipelineRunner runner(watermark_config(db, "poll", "t", "updated_at"));
  const auto q = same_columns("t", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q));

  auto a = db.pg_connect();
  auto b = db.pg_connect();
  a.exec("BEGIN");
  a.exec("INSERT INTO t (v) VALUES ('a')");
  a.exec("UPDATE t SET v = 'seed updated by a' WHERE v = 'seed'");
  std::this_thread::sleep_for(20ms);
  b.exec("INSERT INTO t (v) VALUES ('b')");
  ASSERT_TRUE(wait_until([&] { return ch_has(db, "t", "b"); }, 30s));
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(ch_has(db, "t", "a"));
  a.exec("COMMIT");
  EXPECT_TRUE(wait_equal(db, q, 30s)) << "A's rows carry a timestamp below the cursor";
  runner.stop();
}

// A started (now() fixed) before B but had no xid when B's row was read: only the xact_start
// check of the horizon can know A may still write a smaller timestamp.
TEST(PollOutOfOrder, UpdatedAtWatermarkWriterStartedBeforeWithoutXid) {
  auto db = make_test_database();
  create_updated_at_table(db, "t");
  db.pg_exec("INSERT INTO t (v) VALUES ('seed')");
  PipelineRunner runner(watermark_config(db, "poll", "t", "updated_at"));
  const auto q = same_columns("t", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q));

  auto a = db.pg_connect();
  a.exec("BEGIN");
  const auto a_start = a.query("SELECT now()").text(0, 0);  // fixes A's now(); no xid yet
  std::this_thread::sleep_for(20ms);
  db.pg_exec("INSERT INTO t (v) VALUES ('b')");
  ASSERT_TRUE(wait_until([&] { return ch_has(db, "t", "b"); }, 30s));
  std::this_thread::sleep_for(500ms);  // pages with B's row are read and their windows wait
  a.exec("INSERT INTO t (v) VALUES ('a')");
  a.exec("COMMIT");
  EXPECT_EQ(db.pg_rows("SELECT updated_at::text < (SELECT updated_at::text FROM t WHERE v = 'b') FROM t WHERE v = 'a'"),
            (Rows{{"t"}}))
      << "A's row must carry the older timestamp for this test to mean anything";
  EXPECT_TRUE(wait_equal(db, q, 30s));
  runner.stop();
}

// Many writers with overlapping transactions: whatever the commit order, nothing is lost.
TEST(PollOutOfOrder, ConcurrentWritersLoseNothing) {
  auto db = make_test_database();
  create_updated_at_table(db, "t");
  auto cfg = watermark_config(db, "poll", "t", "updated_at");
  cfg.poll.interval = 20ms;
  cfg.poll.batch_size = 50;
  PipelineRunner runner(cfg);
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&db, w] {
      auto c = db.pg_connect();
      for (int i = 0; i < 60; ++i) {
        c.exec("BEGIN");
        c.exec("INSERT INTO t (v) VALUES ('w" + std::to_string(w) + "-" + std::to_string(i) + "')");
        std::this_thread::sleep_for(std::chrono::milliseconds((i * 7 + w * 13) % 30));
        c.exec("UPDATE t SET v = v || '+' WHERE id = (SELECT max(id) FROM t)");
        c.exec("COMMIT");
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"), 60s));
  runner.stop();
}


// A role that cannot see other sessions' xact_start still waits for transactions holding an xid,
// and `status` says which guarantee applies and what to GRANT.
TEST(PollOutOfOrder, WithoutReadAllStatsXidHoldersAreStillWaitedFor) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id bigserial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t (v) VALUES ('seed')");
  db.pg_exec("GRANT SELECT ON t TO " + pg_server().limited_user);
  auto cfg = watermark_config(db, "poll", "t", "id");
  cfg.postgres.user = pg_server().limited_user;
  cfg.postgres.password = pg_server().limited_password;

  std::ostringstream text;
  capture::print_status_text(capture::capture_mode("poll").status(cfg), text);
  const std::string status = text.str();
  EXPECT_NE(status.find("partial: waits for transactions holding an xid"), std::string::npos) << status;
  EXPECT_NE(status.find("GRANT pg_read_all_stats TO " + pg_server().limited_user), std::string::npos) << status;

  PipelineRunner runner(cfg);
  const auto q = same_columns("t", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q));
  auto a = db.pg_connect();
  a.exec("BEGIN");
  a.exec("INSERT INTO t (v) VALUES ('a')");
  db.pg_exec("INSERT INTO t (v) VALUES ('b')");
  ASSERT_TRUE(wait_until([&] { return ch_has(db, "t", "b"); }, 30s));
  std::this_thread::sleep_for(300ms);
  a.exec("COMMIT");
  EXPECT_TRUE(wait_equal(db, q, 30s));
  runner.stop();
}

// Since PostgreSQL 14 a snapshot lists as in progress only xids below the latest *completed* one:
// a writer whose xid is newer than every committed transaction's is running but absent from
// pg_snapshot_xip(). Here writer A takes id 2, B takes id 3 and commits, and only then does A
// write (so its xid is above B's); the page that reads 3 must still wait for A.
TEST(PollOutOfOrder, WithoutReadAllStatsWriterNewerThanTheLastCommitIsWaitedFor) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id bigserial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t (v) VALUES ('seed')");
  db.pg_exec("GRANT SELECT ON t TO " + pg_server().limited_user);
  auto cfg = watermark_config(db, "poll", "t", "id");
  cfg.postgres.user = pg_server().limited_user;
  cfg.postgres.password = pg_server().limited_password;

  PipelineRunner runner(cfg);
  const auto q = same_columns("t", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q));
  auto a = db.pg_connect();
  a.exec("BEGIN");
  const std::string a_id = a.query("SELECT nextval('t_id_seq')").text(0, 0);  // no xid yet
  db.pg_exec("INSERT INTO t (v) VALUES ('b')");                                  // commits first
  a.exec("INSERT INTO t (id, v) VALUES (" + a_id + ", 'a')");                    // xid above b's
  ASSERT_TRUE(wait_until([&] { return ch_has(db, "t", "b"); }, 30s));
  std::this_thread::sleep_for(500ms);  // several polls and window checks while A is open
  a.exec("COMMIT");
  EXPECT_TRUE(wait_equal(db, q, 30s));
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
