// mode = "poll": a source table dropped or renamed while the pipeline runs is reported (that
// table stops, `status` says why) and its target is left in place with its rows; the other
// tables go on.
#include <gtest/gtest.h>

#include "poll/poll_support.h"
#include "support/pg2ch_cli.h"
#include "state/file_state_store.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(PollTableGone, ADroppedOrRenamedTableStopsAloneAndItsTargetStays) {
  auto db = make_test_database();
  for (const char* t : {"keep", "dropped", "renamed"}) create_updated_at_table(db, t);
  for (const char* t : {"keep", "dropped", "renamed"}) {
    db.pg_exec(std::string("INSERT INTO ") + t + " (v) SELECT 'v' || g FROM generate_series(1, 200) g");
  }
  auto cfg = make_test_config(db, {"public.keep", "public.dropped", "public.renamed"});
  cfg.mode = "poll";
  cfg.poll.watermark = "updated_at";
  cfg.poll.interval = 100ms;
  PipelineRunner runner(cfg);
  for (const char* t : {"keep", "dropped", "renamed"}) ASSERT_TRUE(wait_equal(db, same_columns(t, "id, v", "id")));

  db.pg_exec("DROP TABLE dropped");
  db.pg_exec("ALTER TABLE renamed RENAME TO renamed_now");
  db.pg_exec("INSERT INTO renamed_now (v) VALUES ('after the rename')");
  db.pg_exec("INSERT INTO keep (v) SELECT 'later' || g FROM generate_series(1, 100) g");
  EXPECT_TRUE(wait_equal(db, same_columns("keep", "id, v", "id"))) << "the other table goes on";
  // The state as the pipeline recorded it.
  for (const char* t : {"dropped", "renamed"}) {
    const std::string phase = std::string("table \"public\".\"") + t + "\" phase";
    const std::string reason = std::string("table \"public\".\"") + t + "\" reason";
    std::optional<std::string> why;
    EXPECT_TRUE(wait_until(
        [&] {
          state::FileStateStore store(cfg.state.path);
          why = store.get(reason);
          return store.get(phase) == "stopped";
        },
        30s))
        << t;
    EXPECT_NE(why.value_or("").find(std::string(t) == "dropped" ? "was dropped at the source"
                                                                : "was renamed to public.renamed_now"),
              std::string::npos)
        << why.value_or("");
  }
  EXPECT_EQ(db.ch_rows("SELECT count() FROM dropped FINAL"), (Rows{{"200"}})) << "its target is left in place";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM renamed FINAL"), (Rows{{"200"}})) << "its target is left in place";
  // `status` answers for every table: the two the config still names are stopped with the reason
  // and fix (exit 3: attention), their targets' rows counted; the other streams.
  const auto config_file = write_config_file(cfg, db.dir() / "status.toml");
  auto status = pg2ch_cli(db, config_file, {"status", "--json"}, "status-gone");
  EXPECT_EQ(status.wait(60s).value_or(-1), 3) << status.describe();
  rapidjson::Document d;
  d.Parse(status.stdout_text().c_str());
  ASSERT_FALSE(d.HasParseError()) << status.stdout_text();
  EXPECT_EQ(status_table_row(d, "public.keep").state, "streaming");
  for (const char* t : {"public.dropped", "public.renamed"}) {
    const auto row = status_table_row(d, t);
    EXPECT_EQ(row.state, "stopped") << t;
    EXPECT_NE(row.last_error.find("does not exist in the source database"), std::string::npos) << row.last_error;
  }
  std::string attention;
  for (const auto& a : d["attention"].GetArray()) attention += std::string(a.GetString()) + "\n";
  EXPECT_NE(attention.find("public.dropped stopped: table public.dropped does not exist"), std::string::npos)
      << attention;
  EXPECT_NE(attention.find("fix: remove it from [[tables]]"), std::string::npos) << attention;
  for (const auto& t : d["tables"].GetArray()) {
    if (std::string(t["table"].GetString()) != "public.dropped") continue;
    ASSERT_TRUE(t.HasMember("target_rows") && t["target_rows"].IsInt64()) << status.stdout_text();
    EXPECT_EQ(t["target_rows"].GetInt64(), 200) << "its target's rows are counted";
  }
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
