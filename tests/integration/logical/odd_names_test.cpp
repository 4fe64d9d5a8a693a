// Any table name PostgreSQL allows can be named in [[tables]] (PostgreSQL's quoting: a quoted part
// may hold dots, spaces, quotes, ';', '--', non-ASCII) and replicates end to end, in logical and in
// poll mode; `resync` and `verify` take the same names. Before, such a table could only be
// reached with `schema.*`, and a schema whose name held a dot not at all.
#include <gtest/gtest.h>

#include "poll/poll_support.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// Each: how SQL names it (quoted), how [[tables]] names it, how ClickHouse names its target.
struct OddTable {
  std::string sql, config, clickhouse;
};

const std::vector<OddTable>& odd_tables() {
  static const std::vector<OddTable> tables = {
      {R"("My.Schema"."Order Lines")", R"("My.Schema"."Order Lines")", "`Order Lines`"},
      {R"(public."dot.ted")", R"(public."dot.ted")", "`dot.ted`"},
      {R"(public."say ""hi""; -- x")", R"(public."say ""hi""; -- x")", R"(`say "hi"; -- x`)"},
      {R"(public."ünïcödé Täble")", R"(public."ünïcödé Täble")", "`ünïcödé Täble`"},
      // 63 bytes, PostgreSQL's longest name.
      {"public.t" + std::string(62, 'x'), "public.t" + std::string(62, 'x'), "t" + std::string(62, 'x')},
  };
  return tables;
}

void create_odd_tables(TestDatabase& db) {
  db.pg_exec(R"(CREATE SCHEMA "My.Schema")");
  for (const auto& t : odd_tables()) {
    db.pg_exec("CREATE TABLE " + t.sql + " (id bigserial PRIMARY KEY, v text)");
    db.pg_exec("INSERT INTO " + t.sql + " (v) SELECT 'v' || g FROM generate_series(1, 50) g");
  }
}

::testing::AssertionResult all_equal(TestDatabase& db) {
  for (const auto& t : odd_tables()) {
    auto r = wait_equal(db, {"SELECT id, v FROM " + t.sql + " ORDER BY id",
                             "SELECT id, v FROM " + t.clickhouse + " FINAL WHERE _deleted = 0 ORDER BY id"});
    if (!r) return r << " (table " << t.sql << ")";
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::string> config_names() {
  std::vector<std::string> names;
  for (const auto& t : odd_tables()) names.push_back(t.config);
  return names;
}

TEST(OddTableNames, ReplicateInLogicalModeAndResyncAndVerifyTakeThem) {
  auto db = make_test_database();
  create_odd_tables(db);
  const auto cfg = make_test_config(db, config_names());
  {
    PipelineRunner runner(cfg);
    runner.wait_ready();
    for (const auto& t : odd_tables()) {
      db.pg_exec("UPDATE " + t.sql + " SET v = v || '!' WHERE id % 2 = 0");
      db.pg_exec("DELETE FROM " + t.sql + " WHERE id % 7 = 0");
    }
    ASSERT_TRUE(all_equal(db));
  }
  const auto file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto resync = pg2ch_cli(db, file, {"resync", R"(public."dot.ted")"}, "resync");
  EXPECT_EQ(resync.wait(60s), 0) << resync.describe();
  auto verify = pg2ch_cli(db, file, {"verify", "--settle-ms", "0", R"("My.Schema"."Order Lines")"}, "verify");
  EXPECT_EQ(verify.wait(60s), 0) << verify.describe();
  EXPECT_NE(verify.stdout_text().find("My.Schema.Order Lines: equal"), std::string::npos) << verify.describe();
}

TEST(OddTableNames, ReplicateInPollMode) {
  auto db = make_test_database();
  create_odd_tables(db);
  auto cfg = watermark_config(db, "poll", "unused", "id");
  cfg.tables.clear();
  for (const auto& name : config_names()) {
    config::TableSelector selector;
    selector.pattern = name;
    cfg.tables.push_back(selector);
  }
  PipelineRunner runner(cfg);
  for (const auto& t : odd_tables()) db.pg_exec("INSERT INTO " + t.sql + " (v) VALUES ('more')");
  EXPECT_TRUE(all_equal(db));
}

}  // namespace
}  // namespace pg2ch::test
