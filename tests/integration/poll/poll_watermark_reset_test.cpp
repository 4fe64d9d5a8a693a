// mode = "poll" with an id watermark after TRUNCATE ... RESTART IDENTITY: new rows get ids below
// the checkpoint and would never be read. Before, nothing said so; now that table stops (the
// others stream on) naming the sequence, the checkpoint and the fix (`pg2ch resync`), and after
// the resync the table is read again from its first row into an emptied target and ends equal.
#include <gtest/gtest.h>

#include "poll/poll_support.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(PollWatermarkReset, ASequenceResetBelowTheCheckpointStopsTheTableWithTheFixAndResyncRecovers) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE events (id bigserial PRIMARY KEY, note text)");
  db.pg_exec("CREATE TABLE other (id bigserial PRIMARY KEY, note text)");
  db.pg_exec("INSERT INTO events (note) SELECT 'before ' || g FROM generate_series(1, 500) g");
  auto cfg = watermark_config(db, "poll", "events", "id");
  config::TableSelector other_table;
  other_table.pattern = "public.other";
  cfg.tables.push_back(other_table);
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  const auto q = same_columns("events", "id, note", "id");
  const auto other = same_columns("other", "id, note", "id");
  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, q));
    db.pg_exec("TRUNCATE events RESTART IDENTITY");
    db.pg_exec("INSERT INTO events (note) SELECT 'after ' || g FROM generate_series(1, 20) g");
    ASSERT_TRUE(wait_until(
        [&] { return status_table_row(pg2ch_status_json(db, config_file, "status", true), "public.events").state == "stopped"; },
        60s))
        << "the reset went unnoticed";
    // Only that table stopped: the other one still streams.
    db.pg_exec("INSERT INTO other (note) SELECT 'o ' || g FROM generate_series(1, 30) g");
    ASSERT_TRUE(wait_equal(db, other));
    EXPECT_FALSE(runner.failed()) << runner.describe();
    const auto status = pg2ch_status_json(db, config_file, "status-stopped", true);
    const std::string text = status_table_row(status, "public.events").last_error;
    for (const char* needle : {"public.events", "events_id_seq", "below the checkpoint 500"}) {
      EXPECT_NE(text.find(needle), std::string::npos) << "missing '" << needle << "' in: " << text;
    }
    ASSERT_EQ(status["attention"].Size(), 1u);
    const std::string attention = status["attention"][0].GetString();
    EXPECT_NE(attention.find("pg2ch resync public.events"), std::string::npos) << attention;
    runner.stop();
  }
  // The fix the error names. The rows that were read before the truncate are gone from the source
  // and go from the target too (mode poll cannot see deletes; the resync empties the target).
  auto resync = pg2ch_cli(db, config_file, {"resync", "public.events"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  db.pg_exec("INSERT INTO events (note) SELECT 'later ' || g FROM generate_series(1, 5) g");
  PipelineRunner runner(cfg);
  EXPECT_TRUE(wait_equal(db, q));
  EXPECT_EQ(db.ch_rows("SELECT count() FROM events FINAL"), (Rows{{"25"}}));
  EXPECT_TRUE(wait_until(
      [&] { return status_table_row(pg2ch_status_json(db, config_file, "status-after"), "public.events").state == "streaming"; },
      60s));
}

}  // namespace
}  // namespace pg2ch::test
