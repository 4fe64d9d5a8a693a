// logical.on_* = "ignore" in the modes that read rows with SELECT (poll, notify, outbox): the
// target stays as it was while the source's columns change, under a writer; restarts keep it so
// without reading or copying the table again (rows nobody touched keep their version); and a
// change of an ignored kind made while pg2ch was stopped is kept as a running pipeline keeps it
// (capture/logical/offline_changes.h), not turned into a re-read of the table. Before, poll and
// notify stopped the table at an ignored NOT NULL drop (the catalog kept differing from the
// schema that keeps NOT NULL), outbox with the row payload stopped it at a rename after an ignored
// added column ("renamed out of its exclude list"), and a start read or copied the table again
// for a change of an ignored kind made while pg2ch was stopped.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "outbox/outbox_support.h"
#include "poll/poll_support.h"
#include "support/background_writer.h"
#include "support/child_process.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kNotFollowed = "cannot follow the change of its columns";

class SelectModesIgnoredChanges : public ::testing::TestWithParam<std::string> {};

TEST_P(SelectModesIgnoredChanges, AreKeptAcrossRestartsAndWhileStoppedWithoutReadingTheTableAgain) {
  const std::string mode = GetParam();
  auto db = make_test_database();
  create_updated_at_table(db, "other");
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int, w text, n int NOT NULL, m int NOT NULL, r text, "
             "updated_at timestamptz NOT NULL DEFAULT now())");
  db.pg_exec("CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch_updated_at()");
  db.pg_exec("INSERT INTO t SELECT g, g, 'w' || g, g, g, 'r' || g FROM generate_series(1, 500) g");
  config::Config cfg = mode == "outbox" ? outbox_config(db, {"public.t", "public.other"}, "row")
                                        : watermark_config(db, mode, "t", "updated_at");
  if (mode != "outbox") {
    config::TableSelector other;
    other.pattern = "public.other";
    cfg.tables.push_back(other);
  }
  cfg.logical.on_column_added = cfg.logical.on_column_renamed = cfg.logical.on_type_widened =
      cfg.logical.on_not_null_dropped = "ignore";
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  {
    auto setup = pg2ch_cli(db, config, {"setup"}, "setup");
    ASSERT_EQ(setup.wait(), 0) << setup.describe();
  }
  // Rows 451-500 are touched by nobody: a table read or copied again gives them new versions.
  const auto untouched = [&] {
    return db.ch_rows("SELECT id, max(_version) FROM t WHERE id > 450 AND id <= 500 GROUP BY id ORDER BY id");
  };
  // The rows of `versions` whose version changed since, as "id: before -> now".
  const auto versions_changed = [&](const Rows& versions) {
    std::string out;
    const auto now = untouched();
    for (std::size_t i = 0; i < versions.size(); ++i) {
      if (i >= now.size() || now[i] != versions[i]) {
        out += versions[i][0] + ": " + versions[i][1] + " -> " + (i < now.size() ? now[i][1] : "gone") + "; ";
      }
    }
    return out;
  };
  // The target as made: no extra, r under its old name, v Int32, n and m not Nullable.
  const TableQuery kept{"SELECT id, v, w, n, m, r2 FROM t ORDER BY id",
                        "SELECT id, v, w, n, m, r FROM t FINAL WHERE _deleted = 0 ORDER BY id"};
  const auto target_columns = [&] {
    return db.ch_rows("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 't' "
                      "AND name IN ('v', 'n', 'm', 'r', 'r2', 'extra', 'extra2') ORDER BY name");
  };
  const Rows kept_columns{{"m", "Int32"}, {"n", "Int32"}, {"r", "Nullable(String)"}, {"v", "Nullable(Int32)"}};
  const auto writes = [](pg::Connection& conn, int i) {
    conn.exec("INSERT INTO other (v) VALUES ('o" + std::to_string(i) + "')");
    conn.exec("UPDATE t SET w = w || '.' WHERE id = " + std::to_string(i % 450 + 1));
  };

  Rows versions;
  {
    auto first = pg2ch_cli(db, config, {"run"}, "first");
    ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
        << first.describe();
    ASSERT_TRUE(wait_until([&] { return untouched().size() == 50; }, 60s)) << first.describe();
    versions = untouched();
    BackgroundWriter writer(db, writes, 2ms);
    // One change at a time, each seen before the next.
    const auto step = [&](const std::string& alter, const std::string& logged) {
      db.pg_exec(alter);
      db.pg_exec("UPDATE t SET w = w || '!' WHERE id = 1");
      return wait_until([&] { return first.stderr_text().find(logged) != std::string::npos; }, 60s);
    };
    ASSERT_TRUE(step("ALTER TABLE t ADD COLUMN extra int", "column(s) extra at the source left out"))
        << first.describe();
    ASSERT_TRUE(step("ALTER TABLE t RENAME COLUMN r TO r2", "its target keeps the old names")) << first.describe();
    ASSERT_TRUE(step("ALTER TABLE t ALTER COLUMN v TYPE bigint", "column(s) v widened")) << first.describe();
    ASSERT_TRUE(step("ALTER TABLE t ALTER COLUMN n DROP NOT NULL", "NOT NULL of column(s) n")) << first.describe();
    db.pg_exec("INSERT INTO t (id, v, w, n, m, r2, extra) SELECT g, -g, 'new', g, g, 'r2-' || g, g "
               "FROM generate_series(501, 600) g");
    db.pg_exec("UPDATE t SET r2 = r2 || '+', extra = 1, v = v * 1000 WHERE id % 10 = 0 AND id <= 450");
    writer.finish();
    EXPECT_TRUE(wait_equal(db, kept)) << first.describe();
    EXPECT_EQ(target_columns(), kept_columns);
    EXPECT_EQ(first.stop(SIGTERM), 0) << first.describe();
  }
  // Two restarts: each keeps the ignored changes, and neither reads the table again.
  for (const char* name : {"second", "third"}) {
    auto run = pg2ch_cli(db, config, {"run"}, name);
    ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
        << run.describe();
    db.pg_exec(std::string("UPDATE t SET r2 = '") + name + "', v = 7 WHERE id <= 5");
    EXPECT_TRUE(wait_equal(db, kept)) << run.describe();
    EXPECT_EQ(target_columns(), kept_columns) << run.describe();
    EXPECT_EQ(run.stderr_text().find(kNotFollowed), std::string::npos) << "read again: " << run.describe();
    EXPECT_EQ(versions_changed(versions), "") << "t was read or copied again: " << run.describe();
    EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
  }
  // Ignored kinds changed while pg2ch is stopped, under a writer: kept as while running.
  BackgroundWriter writer(db, writes, 2ms);
  std::this_thread::sleep_for(200ms);
  db.pg_exec("ALTER TABLE t ADD COLUMN extra2 int");
  db.pg_exec("ALTER TABLE t ALTER COLUMN m DROP NOT NULL");
  db.pg_exec("UPDATE t SET extra2 = 2, m = m + 1 WHERE id % 7 = 0 AND id <= 450");
  auto last = pg2ch_cli(db, config, {"run"}, "last");
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << last.describe();
  std::this_thread::sleep_for(300ms);
  writer.finish();
  EXPECT_TRUE(wait_equal(db, kept)) << last.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id"))) << last.describe();
  EXPECT_EQ(target_columns(), kept_columns) << last.describe();
  EXPECT_EQ(last.stderr_text().find(kNotFollowed), std::string::npos) << "read again: " << last.describe();
  EXPECT_EQ(versions_changed(versions), "") << "t was read or copied again: " << last.describe();
  EXPECT_EQ(last.stop(SIGTERM), 0) << last.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, SelectModesIgnoredChanges, ::testing::Values("poll", "notify", "outbox"));

}  // namespace
}  // namespace pg2ch::test
