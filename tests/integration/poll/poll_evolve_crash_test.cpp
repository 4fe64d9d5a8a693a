// A crash in the middle of following a change of a table's columns in place under a watermark
// pipeline (poll, notify; capture/poll/poll_engine.h): pg2ch dies (PG2CH_CRASH_AT, as a SIGKILL
// there would) right before the ClickHouse ALTER, after the table's state recorded the change, or
// right after it, before the view was re-created. The next start alters the target where it has
// not been (each step idempotent) and the table streams on from its checkpoint: never read again
// from its first row, every row equal, every column. Also for several kinds of change at once.
#include <gtest/gtest.h>

#include <string>

#include "capture/capture_mode.h"
#include "poll/poll_support.h"
#include "support/column_changes.h"
#include "support/evolve_crash.h"

namespace pg2ch::test {
namespace {

using Param = std::tuple<std::string, EvolveCrashKind, const char*>;

class WatermarkEvolveCrash : public ::testing::TestWithParam<Param> {};

TEST_P(WatermarkEvolveCrash, TheNextStartAltersTheTargetAgainAndNeverReadsItAgain) {
  const auto& [mode, kind, place] = GetParam();
  auto db = make_test_database();
  if (kind.renames && !clickhouse_can_rename(db)) GTEST_SKIP() << "ClickHouse before 20.4 cannot rename a column";
  create_evolve_crash_table(db, "updated_at timestamptz NOT NULL DEFAULT clock_timestamp()");
  db.pg_exec("CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS "
             "$$ BEGIN NEW.updated_at = clock_timestamp(); RETURN NEW; END $$");
  db.pg_exec("CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch_updated_at()");
  const auto cfg = watermark_config(db, mode, "t", "updated_at");
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  if (mode == "notify") capture::capture_mode(mode).setup(cfg);
  expect_followed_across_a_crash(db, config, kind, place, "resuming after its checkpoint",
                                 {"first row", "read up to its newest row"}, "checkpoint");
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  return std::get<0>(info.param) + "_" + evolve_crash_name(std::get<1>(info.param), std::get<2>(info.param));
}

INSTANTIATE_TEST_SUITE_P(EveryKindBothPlaces, WatermarkEvolveCrash,
                         ::testing::Combine(::testing::Values("poll", "notify"), ::testing::ValuesIn(kEvolveCrashKinds),
                                            ::testing::ValuesIn(kEvolveCrashPlaces)),
                         param_name);

// Several kinds in one transaction, which one look at the catalog sees together
// (SchemaEvolver::follow_several): recorded and applied as one step, and re-applied so.
constexpr EvolveCrashKind kSeveralAtOnce[] = {
    {"SeveralAtOnce",
     "ALTER TABLE t ADD COLUMN extra int NOT NULL DEFAULT 7; ALTER TABLE t DROP COLUMN w; "
     "ALTER TABLE t ALTER COLUMN m DROP NOT NULL",
     "INSERT INTO t (id, v, n, m, r, extra) VALUES (101, 'new', 1, NULL, 'r', 5)", "id, v, n, m, r, extra"}};

INSTANTIATE_TEST_SUITE_P(SeveralAtOnceBothPlaces, WatermarkEvolveCrash,
                         ::testing::Combine(::testing::Values("poll", "notify"), ::testing::ValuesIn(kSeveralAtOnce),
                                            ::testing::ValuesIn(kEvolveCrashPlaces)),
                         param_name);

}  // namespace
}  // namespace pg2ch::test
