// Changes through the outbox triggers and the drainer, with both payload styles and both trigger
// levels: the ClickHouse current state (FINAL, _deleted = 0) must equal the source row by row, and
// the queue must empty.
#include <gtest/gtest.h>

#include "outbox/outbox_support.h"
#include "service/pipeline_loop.h"
#include "support/pipeline_runner.h"
#include "support/servers.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

class OutboxStream : public ::testing::TestWithParam<std::string> {};

TEST_P(OutboxStream, InsertsUpdatesDeletesAndTruncate) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE source_table (id int PRIMARY KEY, name text NOT NULL, value double precision)");
  const auto cfg = outbox_config(db, {"public.source_table"}, GetParam());
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO source_table SELECT g, 'name ' || g, g * 0.5 FROM generate_series(1, 1000) g");
  PipelineRunner runner(cfg);
  const auto q = same_columns("source_table", "id, name, value", "id");
  ASSERT_TRUE(wait_equal(db, q)) << "inserts";

  db.pg_exec("INSERT INTO source_table SELECT g, 'new ' || g, NULL FROM generate_series(1001, 1500) g");
  db.pg_exec("UPDATE source_table SET value = value + 1, name = name || '!' WHERE id % 3 = 0");
  db.pg_exec("DELETE FROM source_table WHERE id % 7 = 0");
  db.pg_exec(
      "BEGIN; UPDATE source_table SET value = 1 WHERE id = 1; UPDATE source_table SET value = 2 WHERE id = 1; "
      "DELETE FROM source_table WHERE id = 2; INSERT INTO source_table VALUES (2, 'reborn', 3); COMMIT");
  db.pg_exec("INSERT INTO source_table VALUES (3, 'upserted', 9) ON CONFLICT (id) DO UPDATE SET name = 'upserted'");
  ASSERT_TRUE(wait_equal(db, q)) << "changes";
  EXPECT_EQ(db.ch_rows("SELECT value FROM source_table FINAL WHERE id = 1"), (Rows{{"2"}}));

  db.pg_exec("TRUNCATE source_table");
  db.pg_exec("INSERT INTO source_table VALUES (5, 'after truncate', 5)");
  ASSERT_TRUE(wait_equal(db, q)) << "truncate";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM source_table"), (Rows{{"1"}})) << "truncate empties the target";
  ASSERT_TRUE(wait_until([&] { return events_waiting(db, cfg) == "0"; }, 30s)) << "the queue drains";
  runner.stop();
  EXPECT_EQ(db.pg_rows("SELECT pipeline, last_lsn > '0/0', events_drained > 0 FROM pg2ch.events_progress"),
            (Rows{{cfg.name, "t", "t"}}));
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg2ch.events_truncates"), (Rows{{"0"}}));
}

TEST_P(OutboxStream, CompositeKeyUpdatesThatMoveTheKey) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE pairs (tenant int, id bigint, label text, PRIMARY KEY (tenant, id))");
  const auto cfg = outbox_config(db, {"public.pairs"}, GetParam());
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO pairs SELECT g % 5, g, 'l' || g FROM generate_series(1, 200) g");
  PipelineRunner runner(cfg);
  const auto q = same_columns("pairs", "tenant, id, label", "tenant, id");
  ASSERT_TRUE(wait_equal(db, q));

  db.pg_exec("UPDATE pairs SET tenant = tenant + 10 WHERE id % 4 = 0");  // key moves
  db.pg_exec("UPDATE pairs SET id = id + 1000, label = 'moved' WHERE id % 5 = 1");
  db.pg_exec("UPDATE pairs SET id = id + 1 WHERE tenant = 2");  // every key of a tenant moves at once
  db.pg_exec("DELETE FROM pairs WHERE id % 6 = 0");
  db.pg_exec(
      "BEGIN; UPDATE pairs SET id = 5000 WHERE tenant = 3 AND id = 3; "
      "INSERT INTO pairs VALUES (3, 3, 'reused key'); COMMIT");  // old key reused
  ASSERT_TRUE(wait_equal(db, q));
  runner.stop();
}

// One statement moves every key onto the next one (2 takes 1's place while 3 takes 2's...): the
// key-move row trigger queues 'M' events for 1..10 and the update trigger the rows 2..11. With
// row-level triggers 2's 'U' (from row 1) comes before its 'M' (from row 2): an 'M' whose key
// exists again must not delete it. Only 1 is gone.
TEST_P(OutboxStream, ChainOfKeyMovesInOneStatement) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE chain (id int PRIMARY KEY DEFERRABLE INITIALLY IMMEDIATE, v text)");
  const auto cfg = outbox_config(db, {"public.chain"}, GetParam());
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO chain SELECT g, 'v' || g FROM generate_series(1, 10) g");
  db.pg_exec("UPDATE chain SET id = id + 1");
  PipelineRunner runner(cfg);
  const auto q = same_columns("chain", "id, v", "id");
  EXPECT_TRUE(wait_equal(db, q));
  db.pg_exec("BEGIN; DELETE FROM chain WHERE id = 2; UPDATE chain SET id = id - 1 WHERE id >= 3; COMMIT");  // back down
  EXPECT_TRUE(wait_equal(db, q));
  runner.stop();
}

// A key move is a change of the key's bytes, not of its equality: 'a' -> 'A' under a
// case-insensitive collation is the same key to PostgreSQL but two keys to ClickHouse, and two
// floats a writer's low extra_float_digits prints alike are still two keys.
TEST_P(OutboxStream, KeyMovesAreByteChangesNotEqualityChanges) {
  auto db = make_test_database();
  db.pg_exec("CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)");
  db.pg_exec("CREATE TABLE words (k text COLLATE ci PRIMARY KEY, v text)");
  db.pg_exec("CREATE TABLE points (k float8 PRIMARY KEY, v text)");
  const auto cfg = outbox_config(db, {"public.words", "public.points"}, GetParam());
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO words VALUES ('apple', 'fruit'), ('b', 'letter')");
  db.pg_exec("INSERT INTO points VALUES (0.1, 'tenth'), (2, 'two')");
  auto w = db.pg_connect();
  w.exec("UPDATE words SET k = 'APPLE' WHERE k = 'apple'");
  w.exec("SET extra_float_digits = -3");
  w.exec("UPDATE points SET k = k + 1e-16 WHERE k = 0.1");  // prints as 0.1 at these settings
  PipelineRunner runner(cfg);
  EXPECT_TRUE(wait_equal(db, {"SELECT k, v FROM words ORDER BY k COLLATE \"C\"",
                              "SELECT k, v FROM words FINAL WHERE _deleted = 0 ORDER BY k"}));
  EXPECT_TRUE(wait_equal(db, same_columns("points", "k, v", "k")));
  runner.stop();
}

// Keys travel as text in the event: bare for types whose text no session setting changes, as JSON
// for the others. A writer with odd DateStyle, TimeZone and extra_float_digits must not make the
// drainer read back another key than the one written.
TEST_P(OutboxStream, KeysOfEveryKindComeBackAsWritten) {
  auto db = make_test_database();
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"k_int2", "int2"},   {"k_numeric", "numeric"}, {"k_varchar", "varchar(20)"}, {"k_uuid", "uuid"},
      {"k_date", "date"},   {"k_bpchar", "char(4)"},   {"k_float", "float8"},        {"k_text", "text"}};
  std::vector<std::string> names;
  for (const auto& [name, type] : keys) {
    db.pg_exec("CREATE TABLE " + name + " (k " + type + " PRIMARY KEY, v int)");
    names.push_back("public." + name);
  }
  const auto cfg = outbox_config(db, names, GetParam());
  outbox_setup(cfg);
  auto w = db.pg_connect();
  w.exec("SET datestyle = 'SQL, DMY'");
  w.exec("SET timezone = 'America/St_Johns'");
  w.exec("SET extra_float_digits = -3");
  w.exec("INSERT INTO k_int2 VALUES (-32768, 1), (7, 1)");
  w.exec("INSERT INTO k_numeric VALUES (-0.000100, 1), ('NaN', 1), (12345678901234567890.5, 1)");
  w.exec("INSERT INTO k_varchar VALUES ('a b', 1), ('quote''s \"', 1), ('', 1)");
  w.exec("INSERT INTO k_uuid VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1)");
  w.exec("INSERT INTO k_date VALUES ('2024-02-03', 1), ('2024-03-02', 1)");
  w.exec("INSERT INTO k_bpchar VALUES ('ab', 1), ('abcd', 1)");
  w.exec("INSERT INTO k_float VALUES (0.1, 1), (1e-16 + 0.1, 1)");
  w.exec("INSERT INTO k_text VALUES (E'tab\\tnew\\nline', 1), ('{\"json\": 1}', 1)");
  for (const auto& [name, type] : keys) w.exec("UPDATE " + name + " SET v = 2");
  w.exec("DELETE FROM k_date WHERE k = '2024-02-03'");
  w.exec("DELETE FROM k_numeric WHERE k = 'NaN'");
  w.exec("DELETE FROM k_bpchar WHERE k = 'ab'");
  w.exec("DELETE FROM k_float WHERE k = 0.1");
  PipelineRunner runner(cfg);
  for (const auto& [name, type] : keys) {
    EXPECT_TRUE(wait_equal(db, same_columns(name, "k, v", "k"))) << name;
  }
  runner.stop();
}

TEST_P(OutboxStream, ExcludedColumnsStayOutOfTheQueueAndTheTarget) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE people (id int PRIMARY KEY, name text, secret text, age int)");
  auto cfg = outbox_config(db, {}, GetParam());
  cfg.tables = {config::TableSelector{"public.people", "people_ch", {}, {"secret"}, {}, {}, {}}};
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO people VALUES (1, 'ann', 's1', 30), (2, 'bob', 's2', 40)");
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg2ch.events e WHERE pg_catalog.to_jsonb(e)::text LIKE '%s1%'"),
            (Rows{{"0"}}))
      << "an excluded column may be a secret: it must not be copied into the events table";
  PipelineRunner runner(cfg);
  const TableQuery q{"SELECT id, name, age FROM people ORDER BY id",
                     "SELECT id, name, age FROM people_ch FINAL WHERE _deleted = 0 ORDER BY id"};
  ASSERT_TRUE(wait_equal(db, q));
  db.pg_exec("UPDATE people SET secret = 'changed', age = 41 WHERE id = 2");
  ASSERT_TRUE(wait_equal(db, q));
  runner.stop();
}

TEST_P(OutboxStream, TablesOfDifferentShapesShareABatch) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE nums (id int PRIMARY KEY, v int)");
  db.pg_exec("CREATE TABLE words (id text PRIMARY KEY, v text)");  // same column names, other types
  const auto cfg = outbox_config(db, {"public.nums", "public.words"}, GetParam());
  outbox_setup(cfg);
  db.pg_exec(
      "BEGIN; INSERT INTO nums VALUES (1, 10), (2, 20); INSERT INTO words VALUES ('x', 'ten'), ('y', 'twenty'); "
      "UPDATE nums SET v = 11 WHERE id = 1; DELETE FROM words WHERE id = 'y'; COMMIT");
  PipelineRunner runner(cfg);
  EXPECT_TRUE(wait_equal(db, same_columns("nums", "id, v", "id")));
  EXPECT_TRUE(wait_equal(db, same_columns("words", "id, v", "id")));
  runner.stop();
}

TEST_P(OutboxStream, StopWhenCaughtUpReturnsOnceTheQueueIsDrained) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  auto cfg = outbox_config(db, {"public.t"}, GetParam());
  cfg.outbox.batch_size = 7;  // many small batches
  outbox_setup(cfg);
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
  db.pg_exec("UPDATE t SET v = 'w' WHERE id <= 50");
  std::atomic<bool> stop{false};
  capture::RunOptions options;
  options.stop_when_caught_up = true;
  service::run_pipeline(cfg, stop, options);
  EXPECT_EQ(events_waiting(db, cfg), "0");
  const auto q = same_columns("t", "id, v", "id");
  EXPECT_EQ(db.ch_rows(q.ch_sql), db.pg_rows(q.pg_sql));
}

// The trigger functions are SECURITY DEFINER without a pinned search_path (a SET clause costs
// every writing statement a GUC save/restore): a writer that puts its own functions and
// operators before pg_catalog, or more specific overloads anywhere on its path, must neither
// change the events nor get its code run with the owner's rights. The writer here also has no
// privilege on the events table.
TEST_P(OutboxStream, WritersSearchPathCannotReachIntoTheTriggers) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text, f float8, doc jsonb, secret text)");
  auto cfg = outbox_config(db, {}, GetParam());
  cfg.tables = {config::TableSelector{"public.a", "a", {}, {"secret"}, {}, {}, {}}};
  outbox_setup(cfg);
  const std::string writer = pg_server().limited_user;
  db.pg_exec("GRANT SELECT, INSERT, UPDATE, DELETE ON a TO " + writer);
  db.pg_exec("CREATE SCHEMA shadow");
  db.pg_exec("GRANT USAGE ON SCHEMA shadow TO PUBLIC");
  db.pg_exec("CREATE TABLE shadow.calls (what text)");
  db.pg_exec("GRANT INSERT ON shadow.calls TO PUBLIC");
  // Each shadow records that it ran and returns something no real event holds.
  const char* kFake = R"($$ INSERT INTO shadow.calls VALUES ('called'); SELECT '{"shadowed": true}'::jsonb $$)";
  db.pg_exec(std::string("CREATE FUNCTION shadow.jsonb_build_object(text, integer) RETURNS jsonb LANGUAGE sql AS ") +
             kFake);
  db.pg_exec(std::string("CREATE FUNCTION shadow.to_jsonb(anyelement) RETURNS jsonb LANGUAGE sql AS ") + kFake);
  db.pg_exec(std::string("CREATE FUNCTION shadow.cat(jsonb, jsonb) RETURNS jsonb LANGUAGE sql AS ") + kFake);
  db.pg_exec(std::string("CREATE FUNCTION shadow.minus(jsonb, text[]) RETURNS jsonb LANGUAGE sql AS ") + kFake);
  db.pg_exec(
      "CREATE FUNCTION shadow.pg_current_wal_insert_lsn() RETURNS pg_lsn LANGUAGE sql AS "
      "$$ INSERT INTO shadow.calls VALUES ('called'); SELECT '0/1'::pg_lsn $$");
  db.pg_exec("CREATE OPERATOR shadow.|| (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = shadow.cat)");
  db.pg_exec("CREATE OPERATOR shadow.- (LEFTARG = jsonb, RIGHTARG = text[], FUNCTION = shadow.minus)");

  auto w = db.pg_connect();
  w.exec("SET search_path = shadow, pg_catalog, public");
  w.exec("SET ROLE " + writer);
  w.exec(R"(INSERT INTO a VALUES (1, 'one', 1.5, '{"k": [1, 2]}', 's1'), (2, 'two', -0, 'null', 's2'))");
  w.exec("UPDATE a SET v = 'uno', f = 2.25 WHERE id = 1");
  w.exec("UPDATE a SET id = 3 WHERE id = 2");  // a key move: a delete of 2
  w.exec("INSERT INTO a VALUES (4, 'four', NULL, NULL, 's4')");
  w.exec("DELETE FROM a WHERE id = 4");

  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM shadow.calls"), (Rows{{"0"}})) << "a shadow ran inside the trigger";
  EXPECT_EQ(db.pg_rows("SELECT count(*) FROM pg2ch.events e WHERE pg_catalog.to_jsonb(e)::text LIKE '%shadowed%' OR "
                       "lsn = '0/1'"),
            (Rows{{"0"}}));
  PipelineRunner runner(cfg);
  EXPECT_TRUE(wait_equal(db, {"SELECT id, v, f, doc::text FROM a ORDER BY id",
                             "SELECT id, v, f, doc FROM a FINAL WHERE _deleted = 0 ORDER BY id"}));
  runner.stop();
}

INSTANTIATE_TEST_SUITE_P(OutboxPayload, OutboxStream,
                         ::testing::Values("key", "row", "key_statement", "row_statement"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg2ch::test
