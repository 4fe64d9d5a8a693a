// mode = "outbox": a source table dropped while the pipeline runs, with events of it perhaps still
// queued (a fetch of them fails, the catalog says it is gone: that table stops alone), leaves its
// target with its rows; the other table's events go on being drained, and `status` shows the
// dropped one stopped with the reason and the fix.
#include <gtest/gtest.h>

#include <thread>

#include "outbox/outbox_support.h"
#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class OutboxTableGone : public ::testing::TestWithParam<std::string> {};

TEST_P(OutboxTableGone, ADroppedTableStopsAloneAndItsTargetStays) {
  auto db = make_test_database();
  for (const char* t : {"keep", "dropped"}) {
    db.pg_exec(std::string("CREATE TABLE ") + t + " (id int PRIMARY KEY, v text)");
    db.pg_exec(std::string("INSERT INTO ") + t + " SELECT g, 'v' || g FROM generate_series(1, 200) g");
  }
  const auto cfg = outbox_config(db, {"public.keep", "public.dropped"}, GetParam());
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  outbox_setup(cfg);
  PipelineRunner runner(cfg);
  for (const char* t : {"keep", "dropped"}) ASSERT_TRUE(wait_equal(db, same_columns(t, "id, v", "id")));

  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    c.exec("INSERT INTO keep VALUES (" + std::to_string(1000 + i) + ", 'w')");
  }, 5ms);
  // Events of it queued in the transaction that drops it are gone with the table's rows; these
  // are committed before it.
  db.pg_exec("INSERT INTO dropped SELECT g, 'late' FROM generate_series(201, 2200) g");
  db.pg_exec("DROP TABLE dropped");
  std::this_thread::sleep_for(2s);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, same_columns("keep", "id, v", "id"))) << "the other table goes on";
  EXPECT_NE(db.ch_rows("SELECT count() FROM dropped"), (Rows{{"0"}})) << "its target is left in place";
  const auto row =
      status_table_row(pg2ch_status_json(db, config_file, "status-gone", /*attention_ok=*/true), "public.dropped");
  EXPECT_EQ(row.state, "stopped");
  EXPECT_NE(row.last_error.find("does not exist in the source database"), std::string::npos) << row.last_error;
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(Payloads, OutboxTableGone, ::testing::Values("key", "row"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
