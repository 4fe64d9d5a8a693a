// mode = "notify" under a stream of small transactions: a session's trigger notifies once per
// table per notify.coalesce bucket, and pg2ch polls on after a notification until the
// transactions that skipped theirs are read (capture/notify/follow_up.h).
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "capture/capture_mode.h"
#include "capture/notify/notify_triggers.h"
#include "poll/poll_support.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// Our own LISTEN session: counts what the triggers send.
class Listener {
 public:
  Listener(TestDatabase& db, const std::string& channel) : conn_(db.pg_connect()) {
    conn_.exec("LISTEN " + conn_.quote_identifier(channel));
  }
  // Takes what arrived so far.
  std::vector<std::string> take() {
    std::vector<std::string> out;
    PQconsumeInput(conn_.get());
    while (PGnotify* n = PQnotifies(conn_.get())) {
      out.emplace_back(n->extra ? n->extra : "");
      PQfreemem(n);
    }
    return out;
  }

 private:
  pg::Connection conn_;
};

// A large fallback interval: rows that arrive quickly came through notifications and follow-ups.
config::Config coalesce_config(const TestDatabase& db, const std::string& table, std::chrono::milliseconds coalesce) {
  auto cfg = watermark_config(db, "notify", table, "updated_at");
  cfg.poll.interval = 60s;
  cfg.notify.coalesce = coalesce;
  return cfg;
}

TEST(NotifyCoalesce, ConcurrentSingleRowWritersAllArriveWithFewNotifications) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  const auto cfg = coalesce_config(db, "items", 50ms);
  capture::capture_mode("notify").setup(cfg);
  Listener listener(db, cfg.notify.channel);
  PipelineRunner runner(cfg);

  constexpr int kWriters = 4;
  constexpr auto kFor = 2s;
  std::atomic<long> transactions{0};
  std::vector<std::thread> writers;
  const auto start = std::chrono::steady_clock::now();
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto conn = db.pg_connect();
      for (long i = 0; std::chrono::steady_clock::now() - start < kFor; ++i) {
        conn.exec("INSERT INTO items (v) VALUES ('w" + std::to_string(w) + " " + std::to_string(i) + "')");
        ++transactions;
      }
    });
  }
  for (auto& t : writers) t.join();
  const auto q = same_columns("items", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q, 20s)) << "every row, long before the 60 s fallback poll";
  EXPECT_FALSE(runner.failed());

  std::this_thread::sleep_for(200ms);  // the last notifications are delivered at commit
  const auto received = listener.take();
  for (const auto& payload : received) EXPECT_EQ(payload.rfind("public.items:", 0), 0u) << payload;
  std::cout << "[ measured ] " << transactions.load() << " single-row transactions from " << kWriters
            << " sessions in 2 s sent " << received.size() << " notification(s)\n";
  ASSERT_GT(transactions.load(), 200) << "too few transactions to say anything";
  // At most one per session per 50 ms bucket.
  EXPECT_LE(received.size(), kWriters * (2000 / 50 + 2u));
  EXPECT_LT(received.size() * 10, static_cast<std::size_t>(transactions.load()));
  runner.stop();
}

// The case the follow-up polls exist for: T skips its notification because N, an earlier
// transaction of its session, notified the same bucket, and commits only after the poll N's
// notification caused.
TEST(NotifyCoalesce, SkippedTransactionCommittingAfterThePollStillArrives) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  db.pg_exec("INSERT INTO items (v) VALUES ('before')");
  const auto coalesce = 2000ms;  // wide buckets: N and T surely share one
  const auto cfg = coalesce_config(db, "items", coalesce);
  capture::capture_mode("notify").setup(cfg);
  Listener listener(db, cfg.notify.channel);
  PipelineRunner runner(cfg);
  const auto q = same_columns("items", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q, 30s)) << "initial catch-up";
  listener.take();
  auto late = db.pg_connect();

  // Start both statements early in a bucket of the server clock (T's session is open already).
  ASSERT_TRUE(wait_until(
      [&] {
        return db.pg_rows("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::int8 % " +
                          std::to_string(coalesce.count()) + " < 300") == Rows{{"t"}};
      },
      10s, 10ms));
  late.exec("INSERT INTO items (v) VALUES ('notifier')");
  late.exec("BEGIN");
  late.exec("INSERT INTO items (v) VALUES ('skipped, committed late')");

  // pg2ch polled for the notifier (its row is in ClickHouse) while T is still open.
  const TableQuery notifier{"SELECT count(*) FROM items WHERE v = 'notifier'",
                            "SELECT count() FROM items FINAL WHERE v = 'notifier' AND _deleted = 0"};
  ASSERT_TRUE(wait_equal(db, notifier, 20s));
  std::this_thread::sleep_for(300ms);
  late.exec("COMMIT");
  const auto committed = std::chrono::steady_clock::now();

  EXPECT_TRUE(wait_equal(db, q, 15s)) << "the skipped transaction's row, long before the 60 s fallback poll";
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - committed);
  std::cout << "[ measured ] skipped transaction: commit -> visible in ClickHouse in " << took.count() << " ms\n";
  const auto received = listener.take();
  EXPECT_EQ(received.size(), 1u) << "T must have skipped its notification, or this tests nothing";
  runner.stop();
}

// A pipeline whose trigger an older pg2ch installed (channel argument only, its own function)
// keeps notifying every statement, and pg2ch takes the bare payload.
TEST(NotifyCoalesce, OlderPerStatementTriggersKeepWorking) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  const auto cfg = coalesce_config(db, "items", 50ms);
  capture::capture_mode("notify").setup(cfg);
  db.pg_exec(
      "CREATE FUNCTION pg2ch.pg2ch_notify() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN "
      "PERFORM pg_catalog.pg_notify(TG_ARGV[0], pg_catalog.concat(TG_TABLE_SCHEMA, '.', TG_TABLE_NAME)); "
      "RETURN NULL; END $$");
  db.pg_exec("CREATE OR REPLACE TRIGGER " + db.pg().quote_identifier(capture::notify::trigger_name(cfg)) +
             " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON items FOR EACH STATEMENT EXECUTE FUNCTION "
             "pg2ch.pg2ch_notify(" + db.pg().quote_literal(cfg.notify.channel) + ")");
  Listener listener(db, cfg.notify.channel);
  PipelineRunner runner(cfg);
  db.pg_exec("INSERT INTO items (v) VALUES ('a')");
  db.pg_exec("INSERT INTO items (v) VALUES ('b')");
  const auto q = same_columns("items", "id, v", "id");
  EXPECT_TRUE(wait_equal(db, q, 15s)) << "long before the 60 s fallback poll";
  EXPECT_EQ(listener.take(), (std::vector<std::string>{"public.items", "public.items"}));
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
