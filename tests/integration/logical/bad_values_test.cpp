// Values ClickHouse cannot hold, and awkward values it can (issue 13 item 3; docs/bad-input.md).
// A value a target cannot hold stops its table alone, with an error naming the table, the column,
// the value and the row's key, while the other tables stream on; nothing is written in its place.
// A value it can hold arrives as it is in PostgreSQL (or as docs/types.md says it is mapped).
#include <gtest/gtest.h>

#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

struct BadValue {
  std::string table;    // one table per case: public.<table> (id int PRIMARY KEY, c <type>)
  std::string type;
  std::string literal;  // the value PostgreSQL holds and the target cannot
  std::string shown;    // how the error shows the value
};

TEST(BadValues, EachValueItsTargetCannotHoldStopsOnlyItsTableNamingTableColumnValueAndKey) {
  auto db = make_test_database();
  const bool datetime64 = db.ch().capabilities().datetime64;
  std::vector<BadValue> cases = {
      {"date_before", "date", "'1800-01-01'", "date 1800-01-01 is outside the range"},
      {"date_infinite", "date", "'-infinity'", "date '-infinity' cannot be stored"},
      {"ts_infinite", "timestamptz", "'infinity'", "timestamp 'infinity' cannot be stored"},
      // (±Infinity cannot be in a numeric(p,s): PostgreSQL refuses it. In a numeric without
      // precision, a String in ClickHouse, it arrives as it is: LogicalTypes.)
      {"grid_in_flat", "int[]", "'{{1,2},{3,4}}'", "array [1:2][1:2] has 2 dimension(s)"},
  };
  // 18.16 keeps timestamps as Int64 microseconds: all of PostgreSQL's range fits (the faithful
  // test below); DateTime64 ends at 2299.
  if (datetime64) cases.push_back({"ts_after", "timestamp", "'2300-01-01 00:00:00'", "timestamp 2300-01-01"});
  for (const auto& c : cases) db.pg_exec("CREATE TABLE " + c.table + " (id int PRIMARY KEY, c " + c.type + ")");
  db.pg_exec("CREATE TABLE widened (id int PRIMARY KEY, c numeric(10,2))");
  db.pg_exec("CREATE TABLE fine (id int PRIMARY KEY, v text)");
  for (const auto& c : cases) db.pg_exec("INSERT INTO " + c.table + " VALUES (1, NULL)");
  db.pg_exec("INSERT INTO widened VALUES (1, 12345678.91)");

  auto cfg = make_test_config(db);
  cfg.logical.on_type_widened = "ignore";  // the target of `widened` keeps Decimal(10, 2)
  const auto config = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto run = pg2ch_cli(db, config, {"run"}, "run");
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.fine") == "streaming "; }, 90s))
      << run.describe();

  db.pg_exec("ALTER TABLE widened ALTER COLUMN c TYPE numeric(14,2)");
  db.pg_exec("UPDATE widened SET c = c + 1 WHERE id = 1");  // the new Relation is followed first
  ASSERT_TRUE(wait_equal(db, {"SELECT id, c FROM widened ORDER BY id",
                              "SELECT id, c FROM widened FINAL WHERE _deleted = 0 ORDER BY id"}))
      << run.describe();
  cases.push_back({"widened", "numeric(14,2)", "123456789012.34",
                   "numeric 123456789012.34 has more integer digits than ClickHouse Decimal(10, 2)"});
  int fine_id = 100;
  for (const auto& c : cases) {
    // The bad value between two good rows of the same table, and in the same transaction as a row
    // of the table that streams on.
    db.pg_exec("BEGIN; INSERT INTO " + c.table + " (id) VALUES (2); INSERT INTO " + c.table + " VALUES (3, " +
               c.literal + "); INSERT INTO fine VALUES (" + std::to_string(++fine_id) + ", 'meanwhile'); COMMIT");
    db.pg_exec("INSERT INTO " + c.table + " (id) VALUES (4)");
    db.pg_exec("INSERT INTO fine VALUES (" + std::to_string(++fine_id) + ", '" + c.table + "')");
  }
  db.pg_exec("INSERT INTO fine VALUES (1, 'last')");
  EXPECT_TRUE(wait_equal(db, same_columns("fine", "id, v", "id"))) << "the other table streams on: " << run.describe();

  for (const auto& c : cases) {
    SCOPED_TRACE(c.table);
    std::string state;
    ASSERT_TRUE(wait_until(
        [&] { return (state = pg2ch_table_state(db, config, "public." + c.table)).starts_with("stopped "); }, 60s))
        << state << "\n" << run.describe();
    for (const std::string& needle : std::vector<std::string>{"public." + c.table, "column c ", c.shown, "id=3"})
      EXPECT_NE(state.find(needle), std::string::npos) << "'" << needle << "' missing in: " << state;
    // Nothing of the table from the bad row on: not the value, not a default in its place.
    const Rows written = db.ch_rows("SELECT id FROM " + c.table + " FINAL WHERE _deleted = 0 ORDER BY id");
    EXPECT_TRUE(written == (Rows{{"1"}}) || written == (Rows{{"1"}, {"2"}})) << "rows: " << written.size();
  }
  EXPECT_TRUE(run.running()) << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

// Values at the edges that ClickHouse can hold arrive as PostgreSQL has them, through the snapshot
// and through the stream: empty strings apart from NULL, arrays with NULL elements, with lower
// bounds other than 1 (the elements in order: ClickHouse arrays start at 1) and of two dimensions,
// NULL and empty arrays (both [] in ClickHouse, which has no Nullable(Array)), and on 18.16 a
// timestamp beyond the years DateTime64 holds.
TEST(BadValues, AwkwardValuesTheTargetCanHoldArriveAsTheyAre) {
  auto db = make_test_database();
  db.pg_exec(
      "CREATE TABLE t (id int PRIMARY KEY, s text, s_nn text NOT NULL DEFAULT '', a int[], g int[][], "
      "t_arr text[], ts timestamp)");
  const std::string rows =
      "(1, '', '', '{}', '{}', '{}', '1970-01-01'), "
      "(2, NULL, ' ', NULL, NULL, NULL, NULL), "
      "(3, 'x', 'NULL', '{NULL}', '{{NULL,NULL}}', '{NULL,\"\",\"NULL\"}', '2000-01-01'), "
      "(4, E'\\\\N', E'\\t', '[0:2]={7,8,9}', '[-1:0][3:4]={{1,2},{3,4}}', '[5:5]={z}', '1969-12-31 23:59:59.999999')";
  const auto ts_range = db.ch().capabilities().datetime64 ? "" : ", (5, 'far', '', '{1}', '{}', '{}', '2300-01-01')";
  db.pg_exec("INSERT INTO t VALUES " + rows + ts_range);

  // Arrays as ClickHouse prints them; NULL arrays print as the empty array.
  const TableQuery q{
      "SELECT id, s, s_nn, coalesce(array_to_string(array(SELECT coalesce(x::text, 'N') FROM unnest(a) x), ','), ''), "
      "coalesce(array_to_string(array(SELECT coalesce(x::text, 'N') FROM unnest(g) x), ','), ''), "
      "array_length(g, 1), coalesce(array_to_string(array(SELECT coalesce(x, 'N') FROM unnest(t_arr) x), ','), ''), "
      "(extract(epoch FROM ts) * 1000000)::bigint FROM t ORDER BY id",
      std::string("SELECT id, s, s_nn, arrayStringConcat(arrayMap(x -> ifNull(toString(x), 'N'), a), ','), "
                  "arrayStringConcat(arrayMap(r -> arrayStringConcat(arrayMap(x -> ifNull(toString(x), 'N'), r), ','), g), ','), "
                  "if(length(g) = 0, NULL, length(g)), arrayStringConcat(arrayMap(x -> ifNull(x, 'N'), t_arr), ','), ") +
          (db.ch().capabilities().datetime64 ? "toUnixTimestamp64Micro(ts)" : "ts") +
          " FROM t FINAL WHERE _deleted = 0 ORDER BY id"};
  PipelineRunner runner(make_test_config(db, {"public.t"}));
  ASSERT_TRUE(wait_equal(db, q)) << "snapshot";
  db.pg_exec("INSERT INTO t SELECT id + 10, s, s_nn, a, g, t_arr, ts FROM t");
  db.pg_exec("UPDATE t SET a = NULL, s = NULL WHERE id = 11");
  db.pg_exec("UPDATE t SET a = '{}', s = '' WHERE id = 12");
  ASSERT_TRUE(wait_equal(db, q)) << "stream";
  // The one mapping that cannot be told apart: a NULL array and an empty one are both [].
  EXPECT_EQ(db.ch_rows("SELECT id, length(a) FROM t FINAL WHERE id IN (1, 2, 11, 12) ORDER BY id"),
            (Rows{{"1", "0"}, {"2", "0"}, {"11", "0"}, {"12", "0"}}));
  // '' and NULL stay apart, and so do NULL and the text \N (which the row comparison cannot tell).
  EXPECT_EQ(db.ch_rows("SELECT id, isNull(s) FROM t FINAL WHERE id IN (1, 2, 4, 11, 12) ORDER BY id"),
            (Rows{{"1", "0"}, {"2", "1"}, {"4", "0"}, {"11", "1"}, {"12", "0"}}));
  runner.stop();
}

// A value the target cannot hold already in the table when the initial copy reads it: that table
// stops with the value and the row's key, the other tables are copied and stream (it used to end
// the whole run, naming no key).
TEST(BadValues, ABadValueInTheInitialCopyStopsOnlyItsTable) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE dates (id int PRIMARY KEY, d date)");
  db.pg_exec("CREATE TABLE fine (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO dates SELECT g, date '2020-01-01' + g FROM generate_series(1, 1000) g");
  db.pg_exec("UPDATE dates SET d = '-infinity' WHERE id = 500");
  db.pg_exec("INSERT INTO fine SELECT g, 'v' || g FROM generate_series(1, 1000) g");
  const auto config = write_config_file(make_test_config(db), db.dir() / "pg2ch.toml");
  auto run = pg2ch_cli(db, config, {"run"}, "run");
  std::string state;
  ASSERT_TRUE(wait_until([&] { return (state = pg2ch_table_state(db, config, "public.dates")).starts_with("stopped "); },
                         90s))
      << state << "\n" << run.describe();
  for (const std::string& needle : std::vector<std::string>{"public.dates", "column d ", "'-infinity'", "id=500"})
    EXPECT_NE(state.find(needle), std::string::npos) << "'" << needle << "' missing in: " << state;
  db.pg_exec("INSERT INTO fine VALUES (1001, 'after')");
  EXPECT_TRUE(wait_equal(db, same_columns("fine", "id, v", "id"))) << run.describe();
  EXPECT_TRUE(run.running()) << run.describe();

  // The value corrected, a resync asked while it runs copies the table again.
  db.pg_exec("UPDATE dates SET d = '2020-01-01' WHERE id = 500");
  auto resync = pg2ch_cli(db, config, {"resync", "public.dates"}, "resync");
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  EXPECT_TRUE(wait_equal(db, {"SELECT id, d - date '1970-01-01' FROM dates ORDER BY id",
                              "SELECT id, toInt32(d) FROM dates FINAL WHERE _deleted = 0 ORDER BY id"}))
      << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
}

// A row of 32 MB (four 8 MB values) where a batch may hold 1 MB: the row is sent whole, in a
// batch of its own, through the snapshot and the stream, and an update of one small column keeps
// the big ones (unchanged TOAST values fetched again).
TEST(BadValues, ARowMuchLargerThanTheBatchLimitArrivesWhole) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, a text, b text, c bytea, d text, n int)");
  const auto big_row = [&](int id) {
    db.pg_exec("INSERT INTO t SELECT " + std::to_string(id) +
               ", x, upper(x), convert_to(x, 'UTF8'), reverse(x), 0 FROM (SELECT string_agg(md5((g * " +
               std::to_string(id) + ")::text), '') AS x FROM generate_series(1, 262144) g) s");
  };
  big_row(1);
  auto cfg = make_test_config(db, {"public.t"});
  cfg.batch.max_bytes = 1 << 20;
  const TableQuery q{"SELECT id, length(a), md5(a), md5(b), md5(c), md5(d), n FROM t ORDER BY id",
                     "SELECT id, length(a), lower(hex(MD5(a))), lower(hex(MD5(b))), lower(hex(MD5(c))), "
                     "lower(hex(MD5(d))), n FROM t FINAL WHERE _deleted = 0 ORDER BY id"};
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, q, 120s)) << "snapshot";
  big_row(2);
  db.pg_exec("INSERT INTO t VALUES (3, 'small', 'b', 'c', 'd', 0)");
  db.pg_exec("UPDATE t SET n = n + 1");
  ASSERT_TRUE(wait_equal(db, q, 120s)) << "stream";
  EXPECT_EQ(db.ch_rows("SELECT id, length(a) FROM t FINAL WHERE _deleted = 0 ORDER BY id"),
            (Rows{{"1", "8388608"}, {"2", "8388608"}, {"3", "5"}}));
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
