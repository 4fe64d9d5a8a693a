// GENERATED ALWAYS AS (...) STORED columns: the logical capture cannot read them (pgoutput leaves
// them out before PostgreSQL 18), so setup leaves them out with a note and refuses a config that
// includes one; the watermark modes SELECT their rows and replicate them like any other column.
#include <gtest/gtest.h>

#include "poll/poll_support.h"
#include "support/cli_outcome.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

constexpr int kConfigExit = 2;
constexpr int kSchemaExit = 5;

// The generated column sits between two ordinary ones: a column shifted by one would show.
void create_table(TestDatabase& db) {
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a * 2) STORED, b text)");
  db.pg_exec("INSERT INTO t (id, a, b) VALUES (1, 10, 'one'), (2, NULL, 'two')");
}

Rows target_columns(TestDatabase& db) {
  return db.ch_rows("SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 't'");
}

TEST(GeneratedColumns, LogicalLeavesThemOutWithANoteAndStreamsTheRest) {
  auto db = make_test_database();
  create_table(db);
  const auto cfg = make_test_config(db, {"public.t"});
  const auto o = run_setup(db, cfg);
  ASSERT_EQ(o.exit_code, 0) << o.stderr_text;
  EXPECT_NE(o.stdout_text.find("column g of public.t is GENERATED ALWAYS AS (...) STORED: logical replication does "
                               "not carry it before PostgreSQL 18; it is left out of the target"),
            std::string::npos)
      << o.stdout_text;
  EXPECT_EQ(target_columns(db), (Rows{{"id"}, {"a"}, {"b"}, {"_version"}, {"_deleted"}}));

  PipelineRunner runner(cfg);
  const auto q = same_columns("t", "id, a, b", "id");
  ASSERT_TRUE(wait_equal(db, q)) << "initial copy";
  db.pg_exec("INSERT INTO t (id, a, b) VALUES (3, 30, 'three')");
  db.pg_exec("UPDATE t SET a = 11, b = 'uno' WHERE id = 1");
  db.pg_exec("DELETE FROM t WHERE id = 2");
  ASSERT_TRUE(wait_equal(db, q)) << "streamed changes";
  runner.stop();
}

TEST(GeneratedColumns, LogicalRefusesToIncludeOneAndAcceptsExcludingIt) {
  auto db = make_test_database();
  create_table(db);
  auto cfg = make_test_config(db, {"public.t"});
  cfg.tables[0].include = {"id", "g"};
  expect_one_line_error(run_setup(db, cfg),
                        {"include lists column \"g\" of public.t", "GENERATED ALWAYS AS (...) STORED",
                         "logical replication does not carry it", "mode = \"poll\""},
                        kConfigExit);

  cfg.tables[0].include.clear();
  cfg.tables[0].exclude = {"g"};
  const auto o = run_setup(db, cfg);
  ASSERT_EQ(o.exit_code, 0) << o.stderr_text;
  EXPECT_EQ(o.stdout_text.find("GENERATED"), std::string::npos) << "no note for a column the config excludes";
  EXPECT_EQ(target_columns(db), (Rows{{"id"}, {"a"}, {"b"}, {"_version"}, {"_deleted"}}));
}

TEST(GeneratedColumns, LogicalRefusesAGeneratedKey) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE k (a int, g int GENERATED ALWAYS AS (a * 2) STORED PRIMARY KEY)");
  expect_one_line_error(run_setup(db, make_test_config(db, {"public.k"})),
                        {"column g of public.k is part of the key", "GENERATED", "mode = \"poll\""}, kSchemaExit);
}

TEST(GeneratedColumns, PollReplicatesThem) {
  auto db = make_test_database();
  create_updated_at_table(db, "items");
  db.pg_exec("ALTER TABLE items ADD COLUMN g text GENERATED ALWAYS AS (upper(v)) STORED, ADD COLUMN after_g int");
  db.pg_exec("INSERT INTO items (v, after_g) VALUES ('a', 1), (NULL, 2)");
  const auto cfg = watermark_config(db, "poll", "items", "updated_at");
  const auto o = run_setup(db, cfg);
  ASSERT_EQ(o.exit_code, 0) << o.stderr_text;
  EXPECT_EQ(o.stdout_text.find("GENERATED"), std::string::npos) << o.stdout_text;

  PipelineRunner runner(cfg);
  const auto q = same_columns("items", "id, v, g, after_g", "id");
  ASSERT_TRUE(wait_equal(db, q)) << "existing rows";
  db.pg_exec("UPDATE items SET v = 'changed' WHERE id = 1");
  db.pg_exec("INSERT INTO items (v, after_g) VALUES ('new', 3)");
  ASSERT_TRUE(wait_equal(db, q)) << "updates and inserts";
  EXPECT_EQ(db.ch_rows("SELECT g FROM items FINAL WHERE id = 1"), (Rows{{"CHANGED"}}));
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
