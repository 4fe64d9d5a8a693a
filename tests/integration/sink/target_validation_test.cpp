// A ClickHouse target the user created before `pg2ch setup` is checked column by column, engine
// and sort key against what pg2ch writes: a wrong one stops setup (exit 5) naming the difference
// and the fix, before any view is touched; a right one (another column order, an extra column
// with a DEFAULT) is used as it is, and the rows in it equal the rows in PostgreSQL.
#include <gtest/gtest.h>

#include "support/all_types.h"
#include "support/cli_outcome.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

constexpr int kSchemaExit = 5;  // service/exit_codes.h: source schema

void create_source(TestDatabase& db) {
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, note text)");
  db.pg_exec("INSERT INTO t VALUES (1, -10, 'a'), (2, 20, NULL)");
}

// The target pg2ch would create for create_source()'s table, on this server, with `engine_and_key`.
void create_target(TestDatabase& db, const std::string& v_type, const std::string& engine_and_key) {
  db.ch_exec("CREATE TABLE t (id Int32, v " + v_type +
             ", note Nullable(String), _version UInt64, _deleted UInt8) ENGINE = " + engine_and_key);
}

bool exists(TestDatabase& db, const std::string& name) { return db.ch_rows("EXISTS TABLE " + name) == Rows{{"1"}}; }

TEST(TargetValidation, AWrongTypeStopsSetupNamingTheColumnAndTheFix) {
  auto db = make_test_database();
  create_source(db);
  // Same width, other signedness: -10 would be stored as 4294967286.
  create_target(db, "UInt32", "ReplacingMergeTree(_version) ORDER BY id");
  const auto o = run_setup(db, make_test_config(db, {"public.t"}));
  expect_one_line_error(o,
                        {"ClickHouse table " + db.name() + ".t", "public.t", "column v has type UInt32, pg2ch writes Int32",
                         "MODIFY COLUMN `v` Int32"},
                        kSchemaExit);
  EXPECT_FALSE(exists(db, "t__current")) << "setup went on after the check";
  EXPECT_TRUE(db.pg_rows("SELECT 1 FROM pg_publication WHERE pubname = '" + db.name() + "'").empty());

  // Fixed as the hint says, the same target is accepted.
  db.ch_exec("ALTER TABLE t MODIFY COLUMN v Int32");
  const auto fixed = run_setup(db, make_test_config(db, {"public.t"}));
  ASSERT_EQ(fixed.exit_code, 0) << fixed.stderr_text;
  EXPECT_NE(fixed.stdout_text.find("created view " + db.name() + ".t__current"), std::string::npos) << fixed.stdout_text;
  EXPECT_EQ(fixed.stdout_text.find("created table"), std::string::npos) << fixed.stdout_text;
}

TEST(TargetValidation, ASortKeyWithTheVersionStopsSetup) {
  auto db = make_test_database();
  create_source(db);
  create_target(db, "Int32", "ReplacingMergeTree(_version) ORDER BY (id, _version)");
  expect_one_line_error(run_setup(db, make_test_config(db, {"public.t"})),
                        {"ORDER BY (id, _version), pg2ch needs ORDER BY (id)", "every version", "cannot be altered",
                         "run `pg2ch setup` again"},
                        kSchemaExit);
}

TEST(TargetValidation, APlainMergeTreeStopsSetupAndItsViewIsKept) {
  auto db = make_test_database();
  create_source(db);
  create_target(db, "Int32", "MergeTree ORDER BY id");
  // A view of other columns would be re-created over a matching table; over this one it stays.
  db.ch_exec("CREATE VIEW t__current AS SELECT id FROM t");
  expect_one_line_error(run_setup(db, make_test_config(db, {"public.t"})),
                        {"its engine is MergeTree, pg2ch needs ReplacingMergeTree(_version", "drop " + db.name() + ".t"},
                        kSchemaExit);
  EXPECT_EQ(db.ch_rows("SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 't__current'"),
            (Rows{{"id"}}));
}

TEST(TargetValidation, ACurrentNameTakenByATableIsNeverDropped) {
  auto db = make_test_database();
  create_source(db);
  db.ch_exec("CREATE TABLE t__current (id Int32) ENGINE = Memory");
  db.ch_exec("INSERT INTO t__current VALUES (7)");
  expect_one_line_error(run_setup(db, make_test_config(db, {"public.t"})),
                        {db.name() + ".t__current is a Memory table, not pg2ch's view", "rename or drop"}, kSchemaExit);
  EXPECT_EQ(db.ch_rows("SELECT id FROM t__current"), (Rows{{"7"}}));
}

TEST(TargetValidation, ACorrectTargetInAnotherOrderWithADefaultColumnIsUsedAsItIs) {
  auto db = make_test_database();
  create_source(db);
  db.ch_exec(
      "CREATE TABLE t (_deleted UInt8, loaded_at DateTime DEFAULT now(), note Nullable(String), _version UInt64, "
      "v Int32, id Int32, region String DEFAULT 'eu') ENGINE = ReplacingMergeTree(_version) ORDER BY id");
  const auto cfg = make_test_config(db, {"public.t"});
  const auto o = run_setup(db, cfg);
  ASSERT_EQ(o.exit_code, 0) << o.stderr_text;
  EXPECT_EQ(o.stdout_text.find("created table"), std::string::npos) << o.stdout_text;

  PipelineRunner runner(cfg);
  const auto q = same_columns("t", "id, v, note", "id");
  ASSERT_TRUE(wait_equal(db, q)) << "initial copy";
  db.pg_exec("INSERT INTO t VALUES (3, -2147483648, 'x'), (4, 2147483647, NULL)");
  db.pg_exec("UPDATE t SET v = -v, note = 'changed' WHERE id = 2");
  db.pg_exec("DELETE FROM t WHERE id = 1");
  ASSERT_TRUE(wait_equal(db, q)) << "streamed changes";
  runner.stop();
  EXPECT_EQ(db.ch_rows("SELECT DISTINCT region FROM t"), (Rows{{"eu"}}));
  EXPECT_EQ(db.ch_rows("SELECT id, v FROM t__current ORDER BY id"), (Rows{{"2", "-20"}, {"3", "-2147483648"}, {"4", "2147483647"}}));

  const auto again = run_setup(db, cfg);
  ASSERT_EQ(again.exit_code, 0) << again.stderr_text;
  EXPECT_NE(again.stdout_text.find("nothing to create or change"), std::string::npos) << again.stdout_text;
}

// Every mapped type as this server reports it in system.columns passes the check pg2ch's own
// DDL is held to: a second setup accepts the targets the first one created.
TEST(TargetValidation, TargetsPg2chCreatedPassForEveryMappedType) {
  auto db = make_test_database();
  all_types::create(db);
  const auto cfg = make_test_config(db, {"public.all_types"});
  const auto first = run_setup(db, cfg);
  ASSERT_EQ(first.exit_code, 0) << first.stderr_text;
  EXPECT_NE(first.stdout_text.find("created table " + db.name() + ".all_types"), std::string::npos) << first.stdout_text;
  const auto second = run_setup(db, cfg);
  ASSERT_EQ(second.exit_code, 0) << second.stderr_text;
  EXPECT_NE(second.stdout_text.find("nothing to create or change"), std::string::npos) << second.stdout_text;
}

}  // namespace
}  // namespace pg2ch::test
