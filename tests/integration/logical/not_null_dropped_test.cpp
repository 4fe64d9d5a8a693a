// A column's NOT NULL dropped while streaming is followed in place (schema_evolution.h): the
// Relation message cannot show it, the catalog does, and the target column becomes Nullable
// before the first NULL, under a concurrent writer, every column ending equal. The settings
// logical.on_not_null_dropped / on_type_widened = "stop" stop such a table instead, alone.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(LogicalSchemaEvolution, NotNullDroppedWhileStreamingMakesTheTargetColumnNullableUnderAWriter) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, w text NOT NULL, note text)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, g, 'w' || g, 'x' FROM generate_series(1, 1000) g");
  const auto cfg = make_test_config(db);
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  // An ALTER is followed in place only once the table streams (not while it catches up to its copy).
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s));

  std::atomic<bool> writing{true}, dropped{false};
  std::thread writer([&] {
    auto conn = db.pg_connect();
    for (int i = 1; writing; ++i) {
      const std::string n = std::to_string(i), old_id = std::to_string(i % 1000 + 1);
      conn.exec("INSERT INTO other VALUES (" + n + ", 'o')");
      if (dropped) {
        conn.exec("INSERT INTO t VALUES (" + std::to_string(2000 + i) + ", NULL, " + (i % 2 ? "NULL" : "'w'") +
                  ", 'new')");
        conn.exec("UPDATE t SET v = NULL, note = NULL WHERE id = " + old_id);
      } else {
        conn.exec("UPDATE t SET v = v + 1, note = note || '.' WHERE id = " + old_id);
      }
      std::this_thread::sleep_for(2ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  db.pg_exec("ALTER TABLE t ALTER v DROP NOT NULL, ALTER w DROP NOT NULL");
  dropped = true;
  std::this_thread::sleep_for(1500ms);
  writing = false;
  writer.join();

  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v, w, note", "id")));
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id")));
  EXPECT_EQ(pg2ch_table_state(db, config, "public.t"), "streaming ") << "the table stopped instead of evolving";
  EXPECT_EQ(db.ch_rows("SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 't' AND "
                       "name IN ('v', 'w') ORDER BY name"),
            (Rows{{"Nullable(Int32)"}, {"Nullable(String)"}}));
  runner.stop();
}

TEST(LogicalSchemaEvolution, ChangesSetToStopStopTheirTableAlone) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE nulls (id int PRIMARY KEY, v int NOT NULL)");
  db.pg_exec("CREATE TABLE widened (id int PRIMARY KEY, v int)");
  db.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO nulls SELECT g, g FROM generate_series(1, 10) g");
  db.pg_exec("INSERT INTO widened SELECT g, g FROM generate_series(1, 10) g");
  auto cfg = make_test_config(db);
  cfg.logical.on_not_null_dropped = "stop";
  cfg.logical.on_type_widened = "stop";
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  db.pg_exec("ALTER TABLE nulls ALTER v DROP NOT NULL");
  db.pg_exec("INSERT INTO nulls VALUES (11, NULL)");
  db.pg_exec("ALTER TABLE widened ALTER v TYPE bigint");
  db.pg_exec("INSERT INTO widened VALUES (11, 5000000000)");
  db.pg_exec("INSERT INTO other VALUES (1, 'after')");
  EXPECT_TRUE(wait_equal(db, same_columns("other", "id, v", "id")));
  std::string nulls, widened;
  EXPECT_TRUE(wait_until(
      [&] {
        nulls = pg2ch_table_state(db, config, "public.nulls");
        widened = pg2ch_table_state(db, config, "public.widened");
        return nulls.starts_with("stopped") && widened.starts_with("stopped");
      },
      60s))
      << nulls << "\n" << widened;
  EXPECT_NE(nulls.find("logical.on_not_null_dropped is \"stop\""), std::string::npos) << nulls;
  EXPECT_NE(widened.find("logical.on_type_widened is \"stop\""), std::string::npos) << widened;
  EXPECT_EQ(db.ch_rows("SELECT count() FROM nulls FINAL WHERE _deleted = 0"), Rows{{"10"}});
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
