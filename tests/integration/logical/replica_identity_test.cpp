// A table whose UPDATEs and DELETEs PostgreSQL would refuse once it is published (no usable
// replica identity) is refused by `setup` and `run` before the publication or any target is
// touched: pg2ch never breaks the application's writes.
#include <gtest/gtest.h>

#include "capture/capture_mode.h"
#include "support/cli_outcome.h"

namespace pg2ch::test {
namespace {

constexpr int kSchemaExit = 5;  // service/exit_codes.h: source schema

Rows published(TestDatabase& db) {
  return db.pg_rows("SELECT tablename FROM pg_publication_tables WHERE pubname = '" + db.name() +
                    "' ORDER BY tablename");
}

// The application's own writes on `table` still work.
void expect_writes_work(TestDatabase& db, const std::string& table) {
  db.pg_exec("INSERT INTO " + table + " (id, v) VALUES (100, 1)");
  db.pg_exec("UPDATE " + table + " SET v = v + 1 WHERE id = 100");
  db.pg_exec("DELETE FROM " + table + " WHERE id = 100");
}

TEST(ReplicaIdentity, NothingWithAPrimaryKeyIsRefusedBeforeThePublicationIsTouched) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE fine (id int PRIMARY KEY, v int)");
  db.pg_exec("CREATE TABLE quiet (id int PRIMARY KEY, v int)");
  db.pg_exec("ALTER TABLE quiet REPLICA IDENTITY NOTHING");

  // A first setup with only `fine`: the publication exists and lists it.
  ASSERT_EQ(run_setup(db, make_test_config(db, {"public.fine"})).exit_code, 0);
  ASSERT_EQ(published(db), (Rows{{"fine"}}));

  const auto cfg = make_test_config(db, {"public.fine", "public.quiet"});
  for (const std::string command : {"setup", "run"}) {
    expect_one_line_error(run_cli(db, cfg, command),
                          {"public.quiet", "REPLICA IDENTITY NOTHING", "UPDATE and DELETE",
                           "ALTER TABLE \"public\".\"quiet\" REPLICA IDENTITY DEFAULT", "REPLICA IDENTITY USING INDEX",
                           "REPLICA IDENTITY FULL"},
                          kSchemaExit);
    EXPECT_EQ(published(db), (Rows{{"fine"}})) << command << " changed the publication";
    EXPECT_EQ(db.ch_rows("EXISTS TABLE quiet"), (Rows{{"0"}})) << command << " created a target";
  }
  expect_writes_work(db, "quiet");

  // Fixed as the hint says, the table is published and still writable.
  db.pg_exec("ALTER TABLE quiet REPLICA IDENTITY DEFAULT");
  ASSERT_EQ(run_setup(db, cfg).exit_code, 0);
  EXPECT_EQ(published(db), (Rows{{"fine"}, {"quiet"}}));
  expect_writes_work(db, "quiet");
}

TEST(ReplicaIdentity, ADroppedIdentityIndexOrADeferrablePrimaryKeyIsRefused) {
  auto db = make_test_database();
  // USING INDEX on an index dropped later: PostgreSQL then behaves as NOTHING.
  db.pg_exec("CREATE TABLE lost (id int PRIMARY KEY, u int NOT NULL, v int)");
  db.pg_exec("CREATE UNIQUE INDEX lost_u ON lost (u)");
  db.pg_exec("ALTER TABLE lost REPLICA IDENTITY USING INDEX lost_u");
  db.pg_exec("DROP INDEX lost_u");
  // A DEFERRABLE primary key is no replica identity either.
  db.pg_exec("CREATE TABLE later (id int PRIMARY KEY DEFERRABLE, v int)");

  expect_one_line_error(run_setup(db, make_test_config(db, {"public.lost"})),
                        {"public.lost", "REPLICA IDENTITY USING INDEX", "no longer exists"}, kSchemaExit);
  expect_one_line_error(run_setup(db, make_test_config(db, {"public.later"})),
                        {"public.later", "DEFERRABLE primary key", "REPLICA IDENTITY FULL"}, kSchemaExit);
  EXPECT_TRUE(db.pg_rows("SELECT 1 FROM pg_publication WHERE pubname = '" + db.name() + "'").empty());
  db.pg_exec("INSERT INTO lost VALUES (1, 1, 1)");
  db.pg_exec("UPDATE lost SET v = 2");
  db.pg_exec("INSERT INTO later VALUES (1, 1)");
  db.pg_exec("UPDATE later SET v = 2");
}

// Modes that publish nothing have no reason to refuse such a table.
TEST(ReplicaIdentity, PollModeAcceptsATableWithoutReplicaIdentity) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE quiet (id int PRIMARY KEY, v int)");
  db.pg_exec("ALTER TABLE quiet REPLICA IDENTITY NOTHING");
  auto cfg = make_test_config(db, {"public.quiet"});
  cfg.mode = "poll";
  cfg.poll.watermark = "id";
  EXPECT_NO_THROW(capture::capture_mode("poll").setup(cfg));
}

}  // namespace
}  // namespace pg2ch::test
