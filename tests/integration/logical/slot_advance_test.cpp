// A quiet publication on a busy database must not make the slot hold WAL: with nothing of the
// publication pending, pg2ch confirms the position the server's keepalives report (without
// writing to the source), so WAL written for other tables can be recycled.
#include <gtest/gtest.h>

#include "common/lsn.h"
#include "support/child_process.h"
#include "support/fixture.h"
#include "support/pipeline_runner.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

Lsn lsn_of(TestDatabase& db, const std::string& sql) { return parse_lsn(db.pg_rows(sql)[0][0]).value_or(kInvalidLsn); }

TEST(SlotAdvance, WritesToUnpublishedTablesDoNotHoldTheSlotBack) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE published (id int PRIMARY KEY)");
  db.pg_exec("CREATE TABLE other (id bigint, pad text)");
  auto cfg = make_test_config(db, {"public.published"});
  cfg.logical.status_interval = 1s;
  PipelineRunner runner(cfg);
  runner.wait_ready();

  for (int i = 0; i < 20; ++i) {
    db.pg_exec("INSERT INTO other SELECT g, repeat('x', 500) FROM generate_series(1, 5000) g");
  }
  const Lsn written = lsn_of(db, "SELECT pg_current_wal_lsn()");
  const std::string slot_sql =
      "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + cfg.logical.slot + "'";
  Lsn confirmed = kInvalidLsn;
  EXPECT_TRUE(wait_until(
      [&] {
        confirmed = lsn_of(db, slot_sql);
        return confirmed >= written;
      },
      90s))
      << "the slot stays at " << format_lsn(confirmed) << ", the writes end at " << format_lsn(written);
  runner.stop();
}

// A transaction left open on a published table pins the slot's restart point: the WAL written
// since piles up on the source, and pg2ch says so (logical.retained_wal_warn_mb) with the slot,
// how much and where it is confirmed.
TEST(SlotAdvance, ASlotHoldingBackMoreWalThanTheThresholdIsWarnedAbout) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE published (id int PRIMARY KEY)");
  db.pg_exec("CREATE TABLE other (id bigint, pad text)");
  auto cfg = make_test_config(db, {"public.published"});
  cfg.logical.retained_wal_warn_mb = 1;
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto run = ChildProcess::spawn_pg2ch({.args = {"--config", config.string(), "run"}, .dir = db.dir(), .log_prefix = "run"});
  ASSERT_TRUE(wait_until([&] { return run.stderr_text().find("streaming from slot") != std::string::npos; }, 60s))
      << run.stderr_text();

  auto open = db.pg_connect();
  open.exec("BEGIN");
  open.exec("INSERT INTO published VALUES (1)");
  for (int i = 0; i < 10; ++i) db.pg_exec("INSERT INTO other SELECT g, repeat('x', 500) FROM generate_series(1, 5000) g");
  EXPECT_TRUE(wait_until([&] { return run.stderr_text().find("holds back") != std::string::npos; }, 60s))
      << run.stderr_text();
  const std::string text = run.stderr_text();
  EXPECT_NE(text.find("replication slot " + cfg.logical.slot + " holds back"), std::string::npos) << text;
  EXPECT_NE(text.find("logical.retained_wal_warn_mb = 1"), std::string::npos) << text;
  open.exec("ROLLBACK");
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.stderr_text();
}

}  // namespace
}  // namespace pg2ch::test
