// mode = "poll" with an id watermark after TRUNCATE ... RESTART IDENTITY: new rows get ids below
// the checkpoint and would never be read. Before, nothing said so; now the pipeline stops naming
// the sequence, the checkpoint and the fix (`pg2ch resync`), and after the resync the table is
// read again from its first row into an emptied target and ends equal.
#include <gtest/gtest.h>

#include "poll/poll_support.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(PollWatermarkReset, ASequenceResetBelowTheCheckpointStopsWithTheFixAndResyncRecovers) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE events (id bigserial PRIMARY KEY, note text)");
  db.pg_exec("INSERT INTO events (note) SELECT 'before ' || g FROM generate_series(1, 500) g");
  auto cfg = watermark_config(db, "poll", "events", "id");
  const auto q = same_columns("events", "id, note", "id");
  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, q));
    runner.expect_failure();
    db.pg_exec("TRUNCATE events RESTART IDENTITY");
    db.pg_exec("INSERT INTO events (note) SELECT 'after ' || g FROM generate_series(1, 20) g");
    ASSERT_TRUE(wait_until([&] { return runner.failed(); }, 60s)) << "the reset went unnoticed";
    try {
      runner.stop();
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Schema) << e.what();
      const std::string text = e.one_line();
      for (const char* needle : {"public.events", "events_id_seq", "below the checkpoint 500", "pg2ch resync public.events"}) {
        EXPECT_NE(text.find(needle), std::string::npos) << "missing '" << needle << "' in: " << text;
      }
    }
  }
  // The fix the error names. The rows that were read before the truncate are gone from the source
  // and go from the target too (mode poll cannot see deletes; the resync empties the target).
  auto resync = pg2ch_cli(db, write_config_file(cfg, db.dir() / "pg2ch.toml"), {"resync", "public.events"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  db.pg_exec("INSERT INTO events (note) SELECT 'later ' || g FROM generate_series(1, 5) g");
  PipelineRunner runner(cfg);
  EXPECT_TRUE(wait_equal(db, q));
  EXPECT_EQ(db.ch_rows("SELECT count() FROM events FINAL"), (Rows{{"25"}}));
}

}  // namespace
}  // namespace pg2ch::test
