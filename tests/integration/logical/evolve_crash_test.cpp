// A crash in the middle of following a change of a table's columns in place (schema_evolution.h):
// pg2ch dies (PG2CH_CRASH_AT, as a SIGKILL there would) right before the ClickHouse ALTER, after
// the table's state recorded the change, or right after it, before the view was re-created. The
// next start alters the target where it has not been (each step idempotent) and the table
// streams on: never copied again, every row equal. Each kind of change, both places.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <ostream>
#include <string>

#include "support/child_process.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

struct Kind {
  const char* name;
  const char* alter;
  const char* after;    // rows of the new shape, in the same transaction
  const char* columns;  // compared
  bool renames = false;
};

constexpr Kind kKinds[] = {
    {"Add", "ALTER TABLE t ADD COLUMN extra int", "INSERT INTO t VALUES (101, 'new', 1, 1, 'w', 'r', 5)",
     "id, v, n, m, w, r, extra"},
    {"AddWithDefault", "ALTER TABLE t ADD COLUMN extra int NOT NULL DEFAULT 7",
     "INSERT INTO t VALUES (101, 'new', 1, 1, 'w', 'r', 5)", "id, v, n, m, w, r, extra"},
    {"Widen", "ALTER TABLE t ALTER COLUMN n TYPE bigint", "UPDATE t SET n = 5000000000 WHERE id = 96",
     "id, v, n, m, w, r"},
    {"DropNotNull", "ALTER TABLE t ALTER COLUMN m DROP NOT NULL", "UPDATE t SET m = NULL WHERE id = 95",
     "id, v, n, m, w, r"},
    {"Drop", "ALTER TABLE t DROP COLUMN w", "INSERT INTO t VALUES (101, 'new', 1, 1, 'r')", "id, v, n, m, r"},
    {"Rename", "ALTER TABLE t RENAME COLUMN r TO r2", "UPDATE t SET r2 = 'renamed' WHERE id > 95",
     "id, v, n, m, w, r2", true},
};

constexpr const char* kPlaces[] = {"evolve_before_target_alter", "evolve_after_target_alter"};

void PrintTo(const Kind& kind, std::ostream* os) { *os << kind.name; }

using Param = std::tuple<Kind, const char*>;

class LogicalEvolveCrash : public ::testing::TestWithParam<Param> {};

bool can_rename(TestDatabase& db) {
  const auto v = db.ch_rows("SELECT version()");
  int major = 0, minor = 0;
  std::sscanf(v.at(0).at(0).c_str(), "%d.%d", &major, &minor);
  return major > 20 || (major == 20 && minor >= 4);
}

TEST_P(LogicalEvolveCrash, TheNextStartAltersTheTargetAgainAndNeverCopies) {
  const auto& [kind, place] = GetParam();
  auto db = make_test_database();
  if (kind.renames && !can_rename(db)) GTEST_SKIP() << "ClickHouse before 20.4 cannot rename a column";
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text, n int, m int NOT NULL, w text, r text)");
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g, g, g, 'w' || g, 'r' || g FROM generate_series(1, 100) g");
  const auto cfg = make_test_config(db, {"public.t"});
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto first = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "run"}, .env = {{"PG2CH_CRASH_AT", place}}, .dir = db.dir(),
       .log_prefix = "first"});
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << first.describe();
  // Rows of the old shape before the ALTER in its transaction: not acknowledged at the crash, so
  // the restart reads them again, with their older Relation.
  db.pg_exec(std::string("BEGIN; UPDATE t SET v = 'old shape' WHERE id <= 10; ") + kind.alter + "; " + kind.after +
             "; COMMIT");
  const auto exit_code = first.wait(60s);
  ASSERT_EQ(exit_code, std::optional<int>(137)) << "did not die at " << place << ": " << first.describe();

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  // (Until the start has altered it, the target may lack a column the comparison reads.)
  ASSERT_TRUE(wait_until([&] { return second.stderr_text().find("streaming from slot") != std::string::npos; }, 60s))
      << second.describe();
  db.pg_exec("UPDATE t SET v = v || '+' WHERE id % 7 = 0");
  EXPECT_TRUE(wait_equal(db, same_columns("t", kind.columns, "id"))) << second.describe();
  EXPECT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 30s))
      << second.describe();
  const auto log = second.stderr_text();
  EXPECT_EQ(log.find("copying"), std::string::npos) << "copied again: " << second.describe();
  EXPECT_EQ(log.find("copied"), std::string::npos) << "copied again: " << second.describe();
  if (std::string(place) == "evolve_before_target_alter") {
    EXPECT_NE(log.find("altering it again"), std::string::npos) << second.describe();
  }
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

INSTANTIATE_TEST_SUITE_P(EveryKindBothPlaces, LogicalEvolveCrash,
                         ::testing::Combine(::testing::ValuesIn(kKinds), ::testing::ValuesIn(kPlaces)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           const std::string place = std::get<1>(info.param);
                           return std::string(std::get<0>(info.param).name) +
                                  (place == "evolve_before_target_alter" ? "BeforeTheAlter" : "AfterTheAlter");
                         });

}  // namespace
}  // namespace pg2ch::test
