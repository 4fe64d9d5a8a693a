// A crash in the middle of following a change of a table's columns in place (schema_evolution.h):
// pg2ch dies (PG2CH_CRASH_AT, as a SIGKILL there would) right before the ClickHouse ALTER, after
// the table's state recorded the change, or right after it, before the view was re-created. The
// next start alters the target where it has not been (each step idempotent) and the table
// streams on: never copied again, every row equal. Each kind of change, both places; several kinds
// in one Relation message too.
#include <gtest/gtest.h>

#include <string>

#include "support/column_changes.h"
#include "support/evolve_crash.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using Param = std::tuple<EvolveCrashKind, const char*>;

class LogicalEvolveCrash : public ::testing::TestWithParam<Param> {};

TEST_P(LogicalEvolveCrash, TheNextStartAltersTheTargetAgainAndNeverCopies) {
  const auto& [kind, place] = GetParam();
  auto db = make_test_database();
  if (kind.renames && !clickhouse_can_rename(db)) GTEST_SKIP() << "ClickHouse before 20.4 cannot rename a column";
  create_evolve_crash_table(db);
  const auto cfg = make_test_config(db, {"public.t"});
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  // Rows of the old shape before the ALTER in its transaction: not acknowledged at the crash, so
  // the restart reads them again, with their older Relation.
  expect_followed_across_a_crash(db, config, kind, place, "streaming from slot", {"copying", "copied"});
}

INSTANTIATE_TEST_SUITE_P(EveryKindBothPlaces, LogicalEvolveCrash,
                         ::testing::Combine(::testing::ValuesIn(kEvolveCrashKinds),
                                            ::testing::ValuesIn(kEvolveCrashPlaces)),
                         evolve_crash_param_name<::testing::TestParamInfo<Param>>);

// Several kinds in one Relation message (SchemaEvolver::follow_several): several ALTERs in one
// transaction, or one ALTER with several subcommands (with a widening that rewrites the table, so
// no column is added: an added column of a rewritten table is copied again). Recorded and applied
// as one step, and re-applied so.
constexpr EvolveCrashKind kSeveralAtOnce[] = {
    {"SeveralAtOnce",
     "ALTER TABLE t ADD COLUMN extra int NOT NULL DEFAULT 7; ALTER TABLE t DROP COLUMN w; "
     "ALTER TABLE t ALTER COLUMN m DROP NOT NULL",
     "INSERT INTO t (id, v, n, m, r, extra) VALUES (101, 'new', 1, NULL, 'r', 5)", "id, v, n, m, r, extra"},
    {"SeveralInOneAlter", "ALTER TABLE t ALTER COLUMN n TYPE bigint, DROP COLUMN w, ALTER COLUMN m DROP NOT NULL",
     "INSERT INTO t (id, v, n, m, r) VALUES (101, 'new', 5000000000, NULL, 'r')", "id, v, n, m, r"}};

INSTANTIATE_TEST_SUITE_P(SeveralAtOnceBothPlaces, LogicalEvolveCrash,
                         ::testing::Combine(::testing::ValuesIn(kSeveralAtOnce),
                                            ::testing::ValuesIn(kEvolveCrashPlaces)),
                         evolve_crash_param_name<::testing::TestParamInfo<Param>>);

}  // namespace
}  // namespace pg2ch::test
