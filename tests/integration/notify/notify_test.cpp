// mode = "notify": statement-level triggers wake a LISTENing pg2ch, which polls the notified table.
#include <gtest/gtest.h>

#include <iostream>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "support/child_process.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/servers.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// A large fallback interval: rows that arrive quickly were fetched because a notification woke
// pg2ch, not because the timer did.
config::Config notify_config(const TestDatabase& db, const std::string& table) {
  auto cfg = watermark_config(db, "notify", table, "updated_at");
  cfg.poll.interval = 60s;
  return cfg;
}

Rows trigger_count(TestDatabase& db) {
  return db.pg_rows("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pg2ch_notify%'");
}

TEST(NotifyCapture, RowsArriveSoonAfterCommitDespiteLongFallback) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  db.pg_exec("INSERT INTO items (v) SELECT 'v' || g FROM generate_series(1, 100) g");
  const auto cfg = notify_config(db, "items");
  capture::capture_mode("notify").setup(cfg);
  PipelineRunner runner(cfg);
  const auto q = same_columns("items", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q, 30s)) << "initial catch-up";

  for (int round = 0; round < 3; ++round) {
    const auto start = std::chrono::steady_clock::now();
    db.pg_exec("INSERT INTO items (v) VALUES ('round " + std::to_string(round) + "')");
    db.pg_exec("UPDATE items SET v = v || '!' WHERE id = " + std::to_string(round + 1));
    ASSERT_TRUE(wait_equal(db, q, 10s)) << "round " << round;
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    EXPECT_LT(took, 5s) << "round " << round;
    std::cout << "[ measured ] notify round " << round << ": commit -> visible in ClickHouse in " << took.count()
              << " ms\n";
  }
  runner.stop();
}

// The trigger function is SECURITY DEFINER without a pinned search_path (the SET clause would
// cost every writing statement a GUC save/restore): a writer whose path puts its own functions
// and operators first must neither break the notification nor get its code run by the trigger.
TEST(NotifyCapture, WritersSearchPathCannotReachIntoTheTrigger) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  const auto cfg = notify_config(db, "items");
  capture::capture_mode("notify").setup(cfg);
  const std::string writer = pg_server().limited_user;
  db.pg_exec("GRANT SELECT, INSERT, UPDATE ON items TO " + writer);
  db.pg_exec("GRANT USAGE ON SEQUENCE items_id_seq TO " + writer);
  db.pg_exec("CREATE SCHEMA shadow");
  db.pg_exec("GRANT USAGE ON SCHEMA shadow TO PUBLIC");
  db.pg_exec("CREATE TABLE shadow.calls (what text)");
  db.pg_exec("GRANT INSERT ON shadow.calls TO PUBLIC");
  for (const char* fn : {
           "pg_notify(text, text) RETURNS void LANGUAGE sql AS $$ INSERT INTO shadow.calls VALUES ('pg_notify') $$",
           "clock_timestamp() RETURNS timestamptz LANGUAGE sql AS $$ INSERT INTO shadow.calls VALUES ('clock'); "
           "SELECT 'epoch'::timestamptz $$",
           "date_part(text, timestamptz) RETURNS float8 LANGUAGE sql AS $$ INSERT INTO shadow.calls VALUES "
           "('date_part'); SELECT 0::float8 $$",
           "current_setting(text, boolean) RETURNS text LANGUAGE sql AS $$ INSERT INTO shadow.calls VALUES "
           "('current_setting'); SELECT 'x' $$",
           "set_config(text, text, boolean) RETURNS text LANGUAGE sql AS $$ INSERT INTO shadow.calls VALUES "
           "('set_config'); SELECT 'x' $$",
           "ne(text, text) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO shadow.calls VALUES ('<>'); "
           "SELECT false $$",
           "concat(name, text, name, text, bigint) RETURNS text LANGUAGE sql AS $$ INSERT INTO shadow.calls "
           "VALUES ('concat'); SELECT 'nowhere' $$",
           "gt(bigint, bigint) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO shadow.calls VALUES ('>'); "
           "SELECT false $$"}) {
    db.pg_exec(std::string("CREATE FUNCTION shadow.") + fn);
  }
  db.pg_exec("CREATE OPERATOR shadow.> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = shadow.gt)");
  db.pg_exec("CREATE OPERATOR shadow.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = shadow.ne)");

  PipelineRunner runner(cfg);
  const auto q = same_columns("items", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q, 30s));
  auto w = db.pg_connect();
  w.exec("SET search_path = shadow, pg_catalog, public");
  w.exec("SET ROLE " + writer);
  w.exec("INSERT INTO public.items (v) VALUES ('from a shadowed path')");
  EXPECT_TRUE(wait_equal(db, q, 20s)) << "the notification must arrive (the fallback poll is 60 s away)";
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM shadow.calls"), (Rows{{"0"}})) << "a shadow ran inside the trigger";
  runner.stop();
}

TEST(NotifyCapture, HundredThousandRowInsertSendsOneNotification) {
  auto db = make_test_database();
  create_updated_at_table(db, "bulk");
  const auto cfg = notify_config(db, "bulk");
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto setup = pg2ch_cli(db, config, {"setup"}, "setup");
  ASSERT_EQ(setup.wait(60s), 0) << setup.describe();

  // Our own listener counts what the trigger sends.
  auto listener = db.pg_connect();
  listener.exec("LISTEN " + listener.quote_identifier(cfg.notify.channel));
  auto run = pg2ch_cli(db, config, {"run"}, "run");
  ASSERT_TRUE(wait_until([&] { return run.stderr_text().find("listening on channel") != std::string::npos; }, 30s))
      << run.describe();

  db.pg_exec("INSERT INTO bulk (v) SELECT 'b' || g FROM generate_series(1, 100000) g");
  const TableQuery q{"SELECT count(*), sum(id), sum(length(v)) FROM bulk",
                     "SELECT count(), sum(id), sum(length(v)) FROM bulk FINAL WHERE _deleted = 0"};
  ASSERT_TRUE(wait_equal(db, q, 60s)) << run.describe();

  int received = 0;
  PQconsumeInput(listener.get());
  while (PGnotify* n = PQnotifies(listener.get())) {
    EXPECT_EQ(std::string(n->extra).rfind("public.bulk:", 0), 0u) << n->extra;  // ":<bucket end>" follows
    ++received;
    PQfreemem(n);
  }
  EXPECT_EQ(received, 1);
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
  EXPECT_NE(run.stderr_text().find("stopped: 1 notification(s) received"), std::string::npos) << run.describe();
}

TEST(NotifyCapture, ReconnectsAndCatchesUpRowsWrittenWhileAway) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  db.pg_exec("INSERT INTO items (v) SELECT 'v' || g FROM generate_series(1, 10) g");
  const auto cfg = notify_config(db, "items");
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto setup = pg2ch_cli(db, config, {"setup"}, "setup");
  ASSERT_EQ(setup.wait(60s), 0) << setup.describe();
  auto run = pg2ch_cli(db, config, {"run"}, "run");
  const auto q = same_columns("items", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q, 30s)) << run.describe();

  // Keep pg2ch from reconnecting while rows are written: the database refuses new connections
  // (changed from another database: a session cannot disallow its own).
  auto admin = pg::Connection::connect(postgres_config("postgres").conninfo(), "test PostgreSQL postgres");
  admin.exec("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS false");
  ASSERT_EQ(db.pg_rows("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg2ch listen' AND datname = '" +
                       db.name() + "'"),
            (Rows{{"1"}}));
  db.pg_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pg2ch listen' "
             "AND datname = '" + db.name() + "'");
  db.pg_exec("INSERT INTO items (v) SELECT 'while away ' || g FROM generate_series(1, 50) g");
  db.pg_exec("UPDATE items SET v = 'updated while away' WHERE id = 3");
  ASSERT_TRUE(wait_until([&] { return run.stderr_text().find("attempt 2) failed") != std::string::npos; }, 20s))
      << run.describe();
  admin.exec("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS true");

  // Far sooner than the 60 s fallback poll: the reconnect's catch-up brought them.
  EXPECT_TRUE(wait_equal(db, q, 20s)) << run.describe();
  const std::string log = run.stderr_text();
  EXPECT_NE(log.find("LISTEN connection lost"), std::string::npos) << log;
  EXPECT_NE(log.find("LISTEN connection re-established"), std::string::npos) << log;

  // And notifications work again on the new connection.
  db.pg_exec("INSERT INTO items (v) VALUES ('after reconnect')");
  EXPECT_TRUE(wait_equal(db, q, 10s)) << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

TEST(NotifySetup, SetupInstallsAndTeardownRemovesTriggers) {
  auto db = make_test_database();
  create_updated_at_table(db, "a");
  create_updated_at_table(db, "b");
  auto cfg = watermark_config(db, "notify", "a", "updated_at");
  cfg.tables.emplace_back();
  cfg.tables.back().pattern = "public.b";
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");

  auto setup = pg2ch_cli(db, config, {"setup"}, "setup");
  ASSERT_EQ(setup.wait(60s), 0) << setup.describe();
  EXPECT_EQ(trigger_count(db), (Rows{{"2"}}));
  EXPECT_EQ(db.pg_rows("SELECT tgtype & 1 FROM pg_trigger WHERE tgname LIKE 'pg2ch_notify%' LIMIT 1"), (Rows{{"0"}}))
      << "statement-level, not row-level";
  const std::string sequences = "SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname LIKE 'notified_%'";
  EXPECT_EQ(db.pg_rows(sequences), (Rows{{"0"}})) << "the last notified bucket is a session setting, not a sequence";
  auto again = pg2ch_cli(db, config, {"setup"}, "setup2");
  ASSERT_EQ(again.wait(60s), 0) << again.describe();
  EXPECT_EQ(trigger_count(db), (Rows{{"2"}})) << "setup is idempotent";

  auto status = pg2ch_cli(db, config, {"status"}, "status");
  ASSERT_EQ(status.wait(60s), 0) << status.describe();
  EXPECT_NE(status.stdout_text().find("deletes NOT captured"), std::string::npos) << status.stdout_text();

  auto teardown = pg2ch_cli(db, config, {"teardown", "--drop-target"}, "teardown");
  ASSERT_EQ(teardown.wait(60s), 0) << teardown.describe();
  EXPECT_EQ(trigger_count(db), (Rows{{"0"}}));
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg_proc WHERE proname LIKE 'pg2ch_notify%'"), (Rows{{"0"}}));
  EXPECT_EQ(db.ch_rows("EXISTS TABLE a"), (Rows{{"0"}}));
}

}  // namespace
}  // namespace pg2ch::test
