// SIGTERM while a batch is in flight (captured, not yet due): the orderly stop writes it,
// acknowledges it to the source and exits 0 — no restart needed for the rows to be in ClickHouse,
// and nothing acknowledged that ClickHouse does not have. The batch delays are ten minutes, so
// only the stop can have written these rows.
#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <httplib.h>

#include "poll/poll_support.h"
#include "support/fixture.h"
#include "support/free_port.h"
#include "support/pg2ch_cli.h"
#include "support/prometheus_page.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// The changes of `table` the sink has taken in (pg2ch_changes_total, all ops), from /metrics.
double changes_taken_in(httplib::Client& client, const std::string& table) {
  auto r = client.Get("/metrics");
  if (!r || r->status != 200) return -1;
  double sum = 0;
  for (const auto& op : {"insert", "update", "delete"}) {
    sum += sample_value(parse_prometheus(r->body), "pg2ch_changes_total", {{"table", table}, {"op", op}}).value_or(0);
  }
  return sum;
}

long target_rows(TestDatabase& db, const std::string& where) {
  return std::stol(db.ch_rows("SELECT count() FROM t FINAL WHERE _deleted = 0 AND " + where)[0][0]);
}

// `pg2ch run` of `cfg` with ten-minute batch delays and its metrics on a free port, once ready.
struct SlowBatchRun {
  SlowBatchRun(TestDatabase& db, config::Config cfg, const std::string& tag)
      : port(free_loopback_port()), run(start(db, std::move(cfg), tag, port)) {}
  static ChildProcess start(TestDatabase& db, config::Config cfg, const std::string& tag, int port) {
    cfg.batch.max_delay = cfg.batch.idle_flush = 600s;
    cfg.batch.table_insert_interval = 600s;
    cfg.service.metrics_listen = "127.0.0.1:" + std::to_string(port);
    return pg2ch_cli(db, write_config_file(cfg, db.dir() / (tag + ".toml")), {"run"}, tag);
  }
  ::testing::AssertionResult ready() {
    httplib::Client client("127.0.0.1", port);
    if (wait_until([&] { auto r = client.Get("/readyz"); return r && r->status == 200; }, 90s, 50ms))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "never ready: " << run.describe();
  }
  double changes_taken_in(const std::string& table) {
    httplib::Client client("127.0.0.1", port);
    return pg2ch::test::changes_taken_in(client, table);
  }
  int port;
  ChildProcess run;
};

// Writes 200 rows and updates 100 of them in one transaction while `cfg` runs, waits until the
// sink holds `changes` changes of it (logical: 300; poll reads each row once: 200) while
// ClickHouse has none of them, then sends SIGTERM. `before_stop` runs just before the signal with
// pg_current_wal_insert_lsn() taken inside that transaction.
void stop_with_a_batch_in_flight(TestDatabase& db, const config::Config& cfg, const std::string& table,
                                 double changes,
                                 const std::function<void(const std::string& inside_update)>& before_stop = {}) {
  SlowBatchRun slow(db, cfg, "run");
  ASSERT_TRUE(slow.ready());
  auto& run = slow.run;
  auto writer = db.pg_connect();
  writer.exec("BEGIN");
  writer.exec("INSERT INTO t (id, v) SELECT g, 'in flight' FROM generate_series(1001, 1200) g");
  writer.exec("UPDATE t SET v = 'in flight, updated' WHERE id BETWEEN 1101 AND 1200");
  const std::string inside_update = writer.query("SELECT pg_current_wal_insert_lsn()::text").text(0, 0);
  writer.exec("COMMIT");
  ASSERT_TRUE(wait_until([&] { return slow.changes_taken_in(table) >= changes; }, 60s, 50ms)) << run.describe();
  ASSERT_EQ(target_rows(db, "id > 1000"), 0) << "the batch was written before the stop: the test proves nothing";
  if (before_stop) before_stop(inside_update);

  EXPECT_EQ(run.stop(SIGTERM, 60s), 0) << run.describe();
  EXPECT_EQ(target_rows(db, "id > 1000"), 200) << run.describe();
  EXPECT_EQ(target_rows(db, "v = 'in flight, updated'"), 100) << run.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"), 1s)) << run.describe();
}

TEST(StopSignal, LogicalWritesAndAcknowledgesTheBatchInFlightThenExitsZero) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'copied' FROM generate_series(1, 1000) g");
  const auto cfg = make_test_config(db, {"public.t"});
  const auto confirmed_past = [&](const std::string& lsn) {
    return db.pg_rows("SELECT confirmed_flush_lsn > '" + lsn + "' FROM pg_replication_slots WHERE slot_name = '" +
                      cfg.logical.slot + "'")[0][0] == "t";
  };
  std::string inside_update;
  stop_with_a_batch_in_flight(db, cfg, "public.t", 300, [&](const std::string& lsn) {
    inside_update = lsn;
    EXPECT_FALSE(confirmed_past(lsn)) << "acknowledged before ClickHouse had the rows";
  });
  // Acknowledged by the stop itself: the slot is confirmed past the update's commit.
  EXPECT_TRUE(confirmed_past(inside_update));
}

TEST(StopSignal, PollWritesTheBatchInFlightAndRecordsItsCheckpointThenExitsZero) {
  auto db = make_test_database();
  create_updated_at_table(db, "t");
  db.pg_exec("INSERT INTO t (id, v) SELECT g, 'copied' FROM generate_series(1, 1000) g");
  const auto cfg = watermark_config(db, "poll", "t", "updated_at");
  stop_with_a_batch_in_flight(db, cfg, "public.t", 200);
  // Acknowledged: the checkpoint the stop recorded covers those rows, so the next run reads none
  // of them again (it would take in 200 changes if the stop had written without recording it).
  SlowBatchRun next(db, cfg, "next");
  ASSERT_TRUE(next.ready());
  std::this_thread::sleep_for(1s);  // ten poll intervals
  EXPECT_EQ(next.changes_taken_in("public.t"), 0) << next.run.describe();
  EXPECT_EQ(next.run.stop(SIGTERM), 0) << next.run.describe();
}

}  // namespace
}  // namespace pg2ch::test
