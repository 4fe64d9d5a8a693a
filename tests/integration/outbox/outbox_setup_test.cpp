// The outbox's objects at the source through the pg2ch binary: setup is idempotent, status
// reports the queue, teardown leaves no trigger or function behind, and operator mistakes
// (no primary key, run before setup, a payload change) stop with a one-line fix.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "capture/outbox/outbox_sql.h"
#include "outbox/outbox_support.h"
#include "service/pipeline_loop.h"
#include "support/child_process.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

std::string count(TestDatabase& db, const std::string& sql) { return db.pg_rows(sql)[0][0]; }

// The one-line error `run` refuses to start with; a test failure (and "") if it starts.
std::string run_refusal(const config::Config& cfg, std::string_view why_it_must_refuse) {
  std::atomic<bool> stop{false};
  try {
    service::run_pipeline(cfg, stop, {});
  } catch (const Error& e) {
    return e.one_line();
  }
  ADD_FAILURE() << "run must refuse: " << why_it_must_refuse;
  return {};
}

constexpr const char* kOurTriggers =
    "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pg2ch\\_%' AND NOT tgisinternal";
constexpr const char* kOurFunctions =
    "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'pg2ch'";

TEST(OutboxSetup, SetupTwiceRunStatusTeardown) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text)");
  db.pg_exec("CREATE TABLE b (k1 text, k2 int, v text, PRIMARY KEY (k1, k2))");
  const auto cfg = outbox_config(db, {"public.a", "public.b"});
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");

  for (const char* tag : {"setup1", "setup2"}) {
    auto setup = pg2ch_cli(db, config, {"setup"}, tag);
    ASSERT_EQ(setup.wait(60s), 0) << setup.describe();
  }
  EXPECT_EQ(count(db, kOurTriggers), "8") << "4 triggers per table, not duplicated by the second setup";
  EXPECT_EQ(count(db, kOurFunctions), "8");
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pg2ch\\_%' AND tgtype & 1 = 1"), "6")
      << "triggers = \"row\" (the default): every trigger but the truncate's is per row";
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pg2ch\\_%' AND (tgattr::text <> '' OR "
                      "tgqual IS NOT NULL)"),
            "0")
      << "no trigger names a column: PostgreSQL would refuse to retype or drop it";

  db.pg_exec("INSERT INTO a SELECT g, 'v' FROM generate_series(1, 10) g");
  db.pg_exec("INSERT INTO b VALUES ('x', 1, 'one')");
  const auto before = pg2ch_status_json(db, config, "status_before");
  EXPECT_EQ(before["details"]["events_waiting"].GetInt64(), 11);

  auto run = pg2ch_cli(db, config, {"run"}, "run");
  ASSERT_TRUE(wait_equal(db, same_columns("a", "id, v", "id"))) << run.describe();
  ASSERT_TRUE(wait_equal(db, same_columns("b", "k1, k2, v", "k1, k2"))) << run.describe();
  // The 11 events queued before the first run were deleted by its initial copy, which holds
  // their changes (outbox_copy.h); the ones after it are drained.
  db.pg_exec("INSERT INTO a SELECT g, 'after the copy' FROM generate_series(11, 13) g");
  ASSERT_TRUE(wait_equal(db, same_columns("a", "id, v", "id"))) << run.describe();
  ASSERT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << run.describe();
  auto status = pg2ch_cli(db, config, {"status"}, "status");
  ASSERT_EQ(status.wait(60s), 0) << status.describe();
  const std::string out = status.stdout_text();
  EXPECT_NE(out.find("events_waiting"), std::string::npos) << out;
  EXPECT_NE(out.find("public.a"), std::string::npos) << out;
  const auto after = pg2ch_status_json(db, config, "status_json");
  EXPECT_EQ(after["details"]["events_waiting"].GetInt64(), 0);
  EXPECT_EQ(after["details"]["events_drained"].GetInt64(), 3);
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();

  auto teardown = pg2ch_cli(db, config, {"teardown", "--drop-target"}, "teardown");
  ASSERT_EQ(teardown.wait(60s), 0) << teardown.describe();
  EXPECT_EQ(count(db, kOurTriggers), "0");
  EXPECT_EQ(count(db, kOurFunctions), "0");
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'pg2ch'"), "0") << "the empty schema goes";
  EXPECT_EQ(db.ch_rows("EXISTS TABLE a"), (Rows{{"0"}}));
  db.pg_exec("INSERT INTO a VALUES (100, 'after teardown')");  // writes work without the triggers
}

// An events table made by an older pg2ch (ordered by an identity id, with the partial index of
// truncates every insert paid for) is converted by setup; the events queued in it are drained,
// not lost, and the truncate stays between the events around it.
TEST(OutboxSetup, SetupMigratesAnOlderEventsTableAndKeepsItsEvents) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO a VALUES (1, 'queued before the upgrade')");
  db.pg_exec(
      "CREATE SCHEMA pg2ch; CREATE TABLE pg2ch.events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
      "schema_name text NOT NULL, table_name text NOT NULL, op char(1) NOT NULL, pk jsonb, \"row\" jsonb, "
      "txid xid8 NOT NULL DEFAULT pg_current_xact_id(), created_at timestamptz NOT NULL DEFAULT now()); "
      "CREATE INDEX events_truncates ON pg2ch.events (id) WHERE op = 'T'; "
      "INSERT INTO pg2ch.events (schema_name, table_name, op, pk) VALUES ('public', 'a', 'I', '{\"id\": 7}'), "
      "('public', 'a', 'T', NULL), ('public', 'a', 'I', '{\"id\": 1}'), ('public', 'gone', 'I', '{\"id\": 1}')");
  const auto cfg = outbox_config(db, {"public.a"});
  outbox_setup(cfg);
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_class WHERE relname = 'events_truncates' AND relkind = 'r'"), "1");
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_class WHERE relname = 'events_v1'"), "0");
  EXPECT_EQ(events_waiting(db, cfg), "2") << "the events of a, not of a table the pipeline does not capture";
  EXPECT_EQ(count(db, "SELECT string_agg(pk, ',' ORDER BY lsn) FROM pg2ch.events"), "7,1");
  db.pg_exec("INSERT INTO a VALUES (2, 'after')");
  PipelineRunner runner(cfg);
  EXPECT_TRUE(wait_equal(db, same_columns("a", "id, v", "id")));
  runner.stop();
}

// A BEFORE UPDATE trigger of the table's own can move a key without the UPDATE setting a key
// column: the UPDATE trigger compares every row's old and new key, so such a trigger added after
// setup needs nothing more. A key-move trigger left by an older pg2ch (AFTER UPDATE OF the key,
// its own function) is dropped by setup.
TEST(OutboxSetup, KeyMovedByTheTablesOwnBeforeTriggerIsCaptured) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text)");
  auto cfg = outbox_config(db, {"public.a"});
  db.pg_exec("CREATE SCHEMA pg2ch");
  db.pg_exec(fmt::format("CREATE FUNCTION pg2ch.{}_{}_mov() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; "
                         "END $$",
                         capture::outbox::object_tag(cfg.name), count(db, "SELECT 'a'::regclass::oid")));
  db.pg_exec(fmt::format("CREATE TRIGGER pg2ch_{0}_mov AFTER UPDATE OF id ON a FOR EACH ROW EXECUTE FUNCTION "
                         "pg2ch.{0}_{1}_mov()",
                         capture::outbox::object_tag(cfg.name), count(db, "SELECT 'a'::regclass::oid")));
  outbox_setup(cfg);
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pg2ch\\_%\\_mov'"), "0");
  db.pg_exec(
      "CREATE FUNCTION renumber() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.v = 'move' THEN NEW.id := "
      "NEW.id + 1000; END IF; RETURN NEW; END $$");
  db.pg_exec("CREATE TRIGGER renumber BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION renumber()");
  db.pg_exec("INSERT INTO a VALUES (1, 'one'), (2, 'two')");
  db.pg_exec("UPDATE a SET v = 'move' WHERE id = 1");  // id 1 becomes 1001 without the statement setting id
  PipelineRunner runner(cfg);
  EXPECT_TRUE(wait_equal(db, same_columns("a", "id, v", "id")));
  runner.stop();
}

TEST(OutboxSetup, TeardownKeepsAnotherPipelinesQueue) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text)");
  auto first = outbox_config(db, {"public.a"});
  auto second = first;
  second.name = first.name + "-other";
  outbox_setup(first);
  outbox_setup(second);
  EXPECT_EQ(count(db, kOurTriggers), "8") << "each pipeline has its own triggers on the same table";
  capture::capture_mode("outbox").teardown(first, false);
  EXPECT_EQ(count(db, kOurTriggers), "4");
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'pg2ch' AND tablename = 'events'"), "1")
      << "the other pipeline still writes into the events table";
  capture::capture_mode("outbox").teardown(second, false);
  EXPECT_EQ(count(db, kOurTriggers), "0");
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'pg2ch'"), "0");
}

TEST(OutboxSetup, SetupWithoutATableRemovesItsTriggers) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text)");
  db.pg_exec("CREATE TABLE b (id int PRIMARY KEY, v text)");
  outbox_setup(outbox_config(db, {"public.a", "public.b"}));
  EXPECT_EQ(count(db, kOurTriggers), "8");
  outbox_setup(outbox_config(db, {"public.a"}));
  EXPECT_EQ(count(db, kOurTriggers), "4");
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'b'::regclass AND NOT tgisinternal"), "0")
      << "b left the config: its changes would be events this pipeline refuses to drain";
}

TEST(OutboxSetup, CapturingTheEventsTableItselfIsRefused) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text)");
  outbox_setup(outbox_config(db, {"public.a"}));
  try {
    outbox_setup(outbox_config(db, {"public.a", "pg2ch.*"}));
    FAIL() << "a trigger on the events table would fire on its own inserts";
  } catch (const Error& e) {
    EXPECT_NE(e.one_line().find("selects the outbox's own table pg2ch.events"), std::string::npos) << e.one_line();
  }
  EXPECT_EQ(count(db, kOurTriggers), "4") << "the failed setup changed nothing";
}

TEST(OutboxSetup, TableWithoutPrimaryKeyIsRefusedWithAFix) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE loose (id int, v text)");
  const auto config = write_config_file(outbox_config(db, {"public.loose"}), db.dir() / "pg2ch.toml");
  auto setup = pg2ch_cli(db, config, {"setup"}, "setup");
  ASSERT_NE(setup.wait(60s), 0) << setup.describe();
  EXPECT_NE(setup.stderr_text().find("public.loose has no primary key"), std::string::npos) << setup.describe();
  EXPECT_NE(setup.stderr_text().find("ADD PRIMARY KEY"), std::string::npos) << setup.describe();
  EXPECT_EQ(count(db, kOurTriggers), "0");
}

TEST(OutboxSetup, RunBeforeSetupOrWithAnotherPayloadSaysWhatToDo) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text)");
  auto cfg = outbox_config(db, {"public.a"});
  const std::string before_setup = run_refusal(cfg, "setup never ran");
  EXPECT_NE(before_setup.find("pg2ch setup"), std::string::npos) << before_setup;
  outbox_setup(cfg);
  cfg.outbox.payload = "row";
  const std::string other_payload = run_refusal(cfg, "the triggers were set up for another payload");
  EXPECT_NE(other_payload.find("another outbox.payload"), std::string::npos) << other_payload;
  EXPECT_NE(other_payload.find("public.a"), std::string::npos) << other_payload;
  cfg.outbox.payload = "key";
  cfg.outbox.triggers = "statement";
  const std::string other_level = run_refusal(cfg, "the triggers were set up for another trigger level");
  EXPECT_NE(other_level.find("outbox.triggers"), std::string::npos) << other_level;
}

// outbox.triggers can change under a queue: the events do not depend on the trigger level, so
// those queued by the statement triggers are drained with the row triggers' after a new setup.
TEST(OutboxSetup, TriggerLevelChangesWithEventsQueued) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text)");
  auto cfg = outbox_config(db, {"public.a"}, "key_statement");
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO a SELECT g, 'statement' FROM generate_series(1, 50) g");
  cfg.outbox.triggers = "row";
  outbox_setup(cfg);
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pg2ch\\_%' AND tgtype & 1 = 1"), "3");
  db.pg_exec("UPDATE a SET v = 'row' WHERE id % 2 = 0");
  db.pg_exec("DELETE FROM a WHERE id % 5 = 0");
  EXPECT_EQ(events_waiting(db, cfg), "85");
  PipelineRunner runner(cfg);
  EXPECT_TRUE(wait_equal(db, same_columns("a", "id, v", "id")));
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
