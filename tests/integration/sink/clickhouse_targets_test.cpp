// The ClickHouse sink's targets on a real server: created once, never re-created by a start that
// finds them in place, and safe when several pg2ch processes start at the same moment (a producer
// and its consumer under systemd, several outbox drainers).
#include <gtest/gtest.h>

#include <latch>
#include <mutex>
#include <thread>

#include "capture/shared/source_tables.h"
#include "support/fixture.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kTables = {"a", "b", "c"};

void create_source_tables(TestDatabase& db) {
  for (const auto& t : kTables) db.pg_exec("CREATE TABLE " + t + " (id int PRIMARY KEY, v text, w float8)");
}

void drop_targets(TestDatabase& db) {
  for (const auto& t : kTables) {
    db.ch_exec("DROP TABLE IF EXISTS " + t + "__current");
    db.ch_exec("DROP TABLE IF EXISTS " + t);
  }
}

Rows view_columns(TestDatabase& db, const std::string& table) {
  return db.ch_rows("SELECT name FROM system.columns WHERE database = currentDatabase() AND table = '" + table +
                    "__current'");
}

// Before the fix every start re-created the views (DROP + CREATE on ClickHouse 18.16), and two
// processes doing it at once failed with "Table ...__current already exists (code 57)".
TEST(ClickHouseTargets, ProcessesStartingTogetherNeverUndoEachOther) {
  auto db = make_test_database();
  create_source_tables(db);
  const auto cfg = make_test_config(db, {"public.a", "public.b", "public.c"});
  constexpr int kProcesses = 6;
  for (int round = 0; round < 8; ++round) {
    // Odd rounds start from no targets, even ones from targets already in place.
    if (round % 2 == 1) drop_targets(db);
    std::vector<capture::SourceTables> processes;
    for (int i = 0; i < kProcesses; ++i) processes.push_back(capture::open_source_tables(cfg));
    std::latch start(kProcesses);
    std::mutex mutex;
    std::vector<std::string> errors;
    std::vector<std::thread> threads;
    for (auto& p : processes) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        try {
          capture::ensure_targets(p);
        } catch (const std::exception& e) {
          std::lock_guard lock(mutex);
          errors.push_back(e.what());
        }
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE(errors.empty()) << "round " << round << ": " << errors.front();
    for (const auto& t : kTables) {
      EXPECT_EQ(view_columns(db, t), (Rows{{"id"}, {"v"}, {"w"}})) << t << " round " << round;
    }
  }
}

TEST(ClickHouseTargets, AStartLeavesMatchingTargetsAloneAndRepairsAStaleView) {
  auto db = make_test_database();
  create_source_tables(db);
  const auto cfg = make_test_config(db, {"public.a", "public.b", "public.c"});
  auto p = capture::open_source_tables(cfg);
  EXPECT_FALSE(capture::ensure_targets(p).empty()) << "the first start creates the targets";
  db.ch_exec("INSERT INTO a (id, v, w, _version, _deleted) VALUES (1, 'kept', 1.5, 7, 0)");
  const auto created = db.ch_rows(
      "SELECT name, toString(metadata_modification_time) FROM system.tables WHERE database = currentDatabase() "
      "ORDER BY name");
  // metadata_modification_time has one-second resolution: a re-created view would show a later one.
  std::this_thread::sleep_for(1100ms);
  EXPECT_TRUE(capture::ensure_targets(p).empty()) << "nothing was missing";
  EXPECT_EQ(db.ch_rows("SELECT name, toString(metadata_modification_time) FROM system.tables WHERE database = "
                       "currentDatabase() ORDER BY name"),
            created);
  EXPECT_EQ(db.ch_rows("SELECT id, v FROM a__current"), (Rows{{"1", "kept"}}));

  // A view left with other columns (an earlier version of the table) is brought in line.
  db.ch_exec("DROP TABLE b__current");
  db.ch_exec("CREATE VIEW b__current AS SELECT id FROM b FINAL WHERE _deleted = 0");
  EXPECT_TRUE(capture::ensure_targets(p).empty());
  EXPECT_EQ(view_columns(db, "b"), (Rows{{"id"}, {"v"}, {"w"}}));
}

}  // namespace
}  // namespace pg2ch::test
