// mode = "poll": inserts and updates reach ClickHouse through keyset pagination, with either an
// updated_at or an id watermark; setup refuses unusable watermark columns.
#include <gtest/gtest.h>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "support/child_process.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(PollCapture, InsertsAndUpdatesWithUpdatedAtWatermark) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  // One transaction: 5,000 rows share one updated_at, so only the key keeps pages apart.
  db.pg_exec("INSERT INTO items (v) SELECT 'v' || g FROM generate_series(1, 5000) g");
  PipelineRunner runner(watermark_config(db, "poll", "items", "updated_at"));
  const auto q = same_columns("items", "id, v", "id");
  ASSERT_TRUE(wait_equal(db, q)) << "initial rows";

  db.pg_exec("UPDATE items SET v = v || '!' WHERE id % 3 = 0");
  db.pg_exec("INSERT INTO items (v) SELECT 'new' || g FROM generate_series(1, 2500) g");
  for (int i = 0; i < 20; ++i) db.pg_exec("UPDATE items SET v = 'again " + std::to_string(i) + "' WHERE id = 7");
  ASSERT_TRUE(wait_equal(db, q)) << "updates and inserts";
  EXPECT_EQ(db.ch_rows("SELECT v FROM items FINAL WHERE id = 7"), (Rows{{"again 19"}}));
  runner.stop();
}

TEST(PollCapture, IdWatermarkInsertsOnly) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE events (id bigserial PRIMARY KEY, kind int NOT NULL, note text)");
  db.pg_exec("INSERT INTO events (kind, note) SELECT g % 10, 'n' || g FROM generate_series(1, 3333) g");
  auto cfg = watermark_config(db, "poll", "events", "id");
  cfg.poll.batch_size = 500;
  PipelineRunner runner(cfg);
  const auto q = same_columns("events", "id, kind, note", "id");
  ASSERT_TRUE(wait_equal(db, q));
  for (int i = 0; i < 50; ++i) db.pg_exec("INSERT INTO events (kind, note) VALUES (1, 'single')");
  ASSERT_TRUE(wait_equal(db, q));
  runner.stop();
}

TEST(PollCapture, CompositeKeyAndDateWatermark) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE visits (day date NOT NULL, tenant int, id int, n int, PRIMARY KEY (tenant, id))");
  db.pg_exec("INSERT INTO visits SELECT date '2026-01-01' + (g % 5), g % 3, g, g FROM generate_series(1, 2000) g");
  auto cfg = watermark_config(db, "poll", "visits", "day");
  cfg.poll.batch_size = 150;
  PipelineRunner runner(cfg);
  const auto q = same_columns("visits", "tenant, id, n", "tenant, id");
  ASSERT_TRUE(wait_equal(db, q));
  db.pg_exec("INSERT INTO visits SELECT date '2026-02-01', 9, g, g FROM generate_series(1, 300) g");
  ASSERT_TRUE(wait_equal(db, q));
  runner.stop();
}

TEST(PollCapture, SetupRefusesUnusableWatermark) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id uuid PRIMARY KEY, note text)");
  auto cfg = watermark_config(db, "poll", "t", "note");
  try {
    capture::capture_mode("poll").setup(cfg);
    FAIL() << "text watermark accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Schema);
    EXPECT_NE(std::string(e.what()).find("public.t: watermark column note has type text"), std::string::npos)
        << e.what();
  }
  cfg.tables[0].watermark = "changed_at";  // per-table override wins over poll.watermark
  try {
    capture::capture_mode("poll").setup(cfg);
    FAIL() << "missing watermark accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("public.t: watermark column changed_at does not exist"), std::string::npos)
        << e.what();
    EXPECT_NE(e.hint().find("watermark"), std::string::npos);
  }
}

TEST(PollCapture, StatusSaysDeletesAreNotCaptured) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  db.pg_exec("INSERT INTO items (v) SELECT 'v' || g FROM generate_series(1, 10) g");
  auto cfg = watermark_config(db, "poll", "items", "updated_at");
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto run = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "run", "--until-caught-up"}, .env = {}, .dir = db.dir(), .log_prefix = "run"});
  ASSERT_EQ(run.wait(60s), 0) << run.describe();
  EXPECT_EQ(db.ch_rows("SELECT count() FROM items FINAL"), (Rows{{"10"}}));
  auto status = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "status"}, .env = {}, .dir = db.dir(), .log_prefix = "status"});
  ASSERT_EQ(status.wait(60s), 0) << status.describe();
  const std::string out = status.stdout_text();
  EXPECT_NE(out.find("deletes NOT captured"), std::string::npos) << out;
  EXPECT_NE(out.find("mode = \"outbox\""), std::string::npos) << out;
  EXPECT_NE(out.find("full: waits for every transaction"), std::string::npos) << out;
  EXPECT_NE(out.find("checkpoint updated_at = "), std::string::npos) << out;
}

// A table that cannot be counted (here its target replaced by a table without pg2ch's columns; in
// the field also a target the running pipeline is re-creating) leaves its counts empty with a
// note; `status` still answers for the other table. It used to fail as a whole.
TEST(PollCapture, StatusAnswersWhenOneTargetCannotBeCounted) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  create_updated_at_table(db, "other");
  db.pg_exec("INSERT INTO items (v) SELECT 'v' || g FROM generate_series(1, 10) g");
  db.pg_exec("INSERT INTO other (v) SELECT 'o' || g FROM generate_series(1, 7) g");
  auto cfg = watermark_config(db, "poll", "items", "updated_at");
  config::TableSelector other_table;
  other_table.pattern = "public.other";
  cfg.tables.push_back(other_table);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto run = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "run", "--until-caught-up"}, .env = {}, .dir = db.dir(), .log_prefix = "run"});
  ASSERT_EQ(run.wait(60s), 0) << run.describe();
  db.ch_exec("RENAME TABLE items TO items_saved");
  db.ch_exec("CREATE TABLE items (id Int64) ENGINE = Memory");

  const auto status = pg2ch_status_json(db, config, "status", /*attention_ok=*/true);
  const auto& other = status["tables"][1];
  ASSERT_STREQ(other["table"].GetString(), "public.other");
  EXPECT_EQ(other["target_rows"].GetInt64(), 7);
  const auto& items = status["tables"][0];
  EXPECT_EQ(items["source_rows"].GetInt64(), 10);
  EXPECT_TRUE(items["target_rows"].IsNull());
  std::string notes;
  for (const auto& n : status["notes"].GetArray()) notes += std::string(n.GetString()) + "\n";
  EXPECT_NE(notes.find("public.items: target rows not counted"), std::string::npos) << notes;
}

TEST(PollCapture, SetupWarnsWithoutWatermarkIndex) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id bigint PRIMARY KEY, changed_at timestamp NOT NULL DEFAULT now())");
  auto cfg = watermark_config(db, "poll", "t", "changed_at");
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto setup = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "setup"}, .env = {}, .dir = db.dir(), .log_prefix = "setup"});
  ASSERT_EQ(setup.wait(60s), 0) << setup.describe();
  EXPECT_NE(setup.stderr_text().find("public.t: no index starts with watermark column changed_at"), std::string::npos)
      << setup.describe();
  EXPECT_NE(setup.stderr_text().find("CREATE INDEX ON \"public\".\"t\" (\"changed_at\", \"id\")"), std::string::npos)
      << setup.describe();

  db.pg_exec("CREATE INDEX ON t (changed_at)");
  auto again = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "setup"}, .env = {}, .dir = db.dir(), .log_prefix = "setup2"});
  ASSERT_EQ(again.wait(60s), 0) << again.describe();
  EXPECT_EQ(again.stderr_text().find("no index starts with"), std::string::npos) << again.describe();
}

}  // namespace
}  // namespace pg2ch::test
