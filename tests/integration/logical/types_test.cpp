// Every mapped type, through the snapshot and through the stream, compared value by value.
// Each column is compared through an expression that prints the same text on both sides
// (ClickHouse 18.16 stores timestamps as Int64 microseconds; modern servers as DateTime64).
#include <gtest/gtest.h>

#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

struct Column {
  std::string pg_expr;
  std::string ch_expr;
};

TableQuery all_types_query(bool datetime64, bool bool_type) {
  const std::string epoch_us_ch_ts = datetime64 ? "toString(toUnixTimestamp64Micro(c_ts))" : "toString(c_ts)";
  const std::string epoch_us_ch_tstz = datetime64 ? "toString(toUnixTimestamp64Micro(c_tstz))" : "toString(c_tstz)";
  const std::vector<Column> cols = {
      {"id", "id"},
      {"c_int2", "c_int2"},
      {"c_int4", "c_int4"},
      {"c_int8", "c_int8"},
      {"c_float4", "c_float4"},
      {"c_float8", "c_float8"},
      {"c_num", "toString(c_num)"},
      {"c_num_free", "c_num_free"},
      {"c_text", "c_text"},
      {"c_varchar", "c_varchar"},
      {"c_char", "c_char"},
      {"c_bool::int", bool_type ? "toUInt8(c_bool)" : "c_bool"},
      {"c_date - date '1970-01-01'", "toInt32(c_date)"},  // 18.16 prints 1970-01-01 as 0000-00-00
      {"(extract(epoch from c_ts) * 1000000)::bigint", epoch_us_ch_ts},
      {"(extract(epoch from c_tstz) * 1000000)::bigint", epoch_us_ch_tstz},
      {"(extract(epoch from c_time) * 1000000)::bigint", "c_time"},
      {"c_uuid", "toString(c_uuid)"},
      {"c_json::text", "c_json"},
      {"c_jsonb::text", "c_jsonb"},
      {"encode(c_bytea, 'hex')", "lower(hex(c_bytea))"},
      {"c_mood::text", "c_mood"},
      {"array_to_string(c_ints, ',', 'N')", "arrayStringConcat(arrayMap(x -> ifNull(toString(x), 'N'), c_ints), ',')"},
      {"array_to_string(c_texts, '|', 'N')", "arrayStringConcat(arrayMap(x -> ifNull(x, 'N'), c_texts), '|')"},
      {"c_domain", "c_domain"},
  };
  std::string pg, ch;
  for (const auto& c : cols) {
    pg += (pg.empty() ? "" : ", ") + c.pg_expr;
    ch += (ch.empty() ? "" : ", ") + c.ch_expr;
  }
  return {"SELECT " + pg + " FROM all_types ORDER BY id",
          "SELECT " + ch + " FROM all_types FINAL WHERE _deleted = 0 ORDER BY id"};
}

constexpr const char* kRows = R"SQL(
INSERT INTO all_types VALUES
 (1, 1, 2, 3, 1.5, 2.25, 12345.678, 3.14159265358979323846, 'plain', 'v', 'c', true, '2024-02-29',
  '2020-01-01 00:00:00.123456', '2021-06-30 23:59:59.999999+02', '12:34:56.789012',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1, "a": [1, 2]}', '{"z": null, "a": "x"}', '\x00ff10',
  'happy', '{1,NULL,3}', '{"x","y z",NULL}', 42),
 (2, -32768, -2147483648, -9223372036854775808, -0.5, -1234.5678, -0.001, -1e-20, E'tab\there\nnewline', '', 'ab', false,
  '1970-01-01', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', '00:00:00', '00000000-0000-0000-0000-000000000000',
  '[]', '[]', '\x', 'sad', '{}', '{}', -1),
 (3, 32767, 2147483647, 9223372036854775807, 3.25, 98765.4321, 999999999.999, 12345678901234567890.123456789, 'ünïcødé ✓',
  repeat('x', 300), 'z', NULL, '2100-12-31', '2262-04-11 23:47:16', '2200-01-01 00:00:00.5+00', '23:59:59.999999',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', '"str"', '\xdeadbeef', 'ok', '{-1}', '{""}', 0),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL)
)SQL";

TEST(LogicalTypes, EveryMappedTypeThroughSnapshotAndStream) {
  auto db = make_test_database();
  db.pg_exec("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
  db.pg_exec("CREATE DOMAIN positive_ish AS integer CHECK (VALUE > -10)");
  db.pg_exec(R"SQL(
    CREATE TABLE all_types (
      id int PRIMARY KEY, c_int2 smallint, c_int4 integer, c_int8 bigint, c_float4 real, c_float8 double precision,
      c_num numeric(12,3), c_num_free numeric, c_text text, c_varchar varchar(400), c_char char(2), c_bool boolean,
      c_date date, c_ts timestamp, c_tstz timestamptz, c_time time, c_uuid uuid, c_json json, c_jsonb jsonb,
      c_bytea bytea, c_mood mood, c_ints int[], c_texts text[], c_domain positive_ish))SQL");
  db.pg_exec(kRows);

  const auto caps = db.ch().capabilities();
  auto q = all_types_query(caps.datetime64, caps.bool_type);
  // NULL arrays become [] (ClickHouse has no Nullable(Array)): compare row 4's arrays as empty.
  q.pg_sql.replace(q.pg_sql.find("array_to_string(c_ints, ',', 'N')"), 33, "coalesce(array_to_string(c_ints, ',', 'N'), '')");
  q.pg_sql.replace(q.pg_sql.find("array_to_string(c_texts, '|', 'N')"), 34, "coalesce(array_to_string(c_texts, '|', 'N'), '')");

  PipelineRunner runner(make_test_config(db));
  ASSERT_TRUE(wait_equal(db, q)) << "snapshot:\n" << q.pg_sql << "\n" << q.ch_sql;

  // The same values again, now through pgoutput (ids 101..104), plus updates of every column.
  db.pg_exec("INSERT INTO all_types SELECT id + 100, c_int2, c_int4, c_int8, c_float4, c_float8, c_num, c_num_free, "
             "c_text, c_varchar, c_char, c_bool, c_date, c_ts, c_tstz, c_time, c_uuid, c_json, c_jsonb, c_bytea, "
             "c_mood, c_ints, c_texts, c_domain FROM all_types WHERE id <= 4");
  db.pg_exec("UPDATE all_types SET c_text = c_text || '!', c_ints = c_ints || 7, c_num = c_num + 1, "
             "c_tstz = c_tstz + interval '1 microsecond', c_mood = 'ok' WHERE id IN (1, 101)");
  ASSERT_TRUE(wait_equal(db, q)) << "stream";
  runner.stop();
}

TEST(LogicalTypes, NumericNaNIntoDecimalStopsWithAClearError) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE prices (id int PRIMARY KEY, price numeric(10,2))");
  db.pg_exec("INSERT INTO prices VALUES (1, 1.5)");
  PipelineRunner runner(make_test_config(db));
  ASSERT_TRUE(wait_equal(db, {"SELECT id, price FROM prices ORDER BY id",
                             "SELECT id, toString(price) FROM prices FINAL ORDER BY id"}));
  db.pg_exec("INSERT INTO prices VALUES (2, 'NaN')");
  ASSERT_TRUE(wait_until([&] { return runner.failed(); }, 30s)) << "a NaN numeric cannot become a Decimal";
  try {
    runner.stop();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.one_line();
    EXPECT_NE(msg.find("price"), std::string::npos) << msg;
    EXPECT_NE(msg.find("public.prices"), std::string::npos) << msg;
    EXPECT_NE(msg.find("String"), std::string::npos) << msg;
  }
  // Nothing after the bad row was acknowledged: the slot still holds the transaction.
  EXPECT_EQ(db.ch_rows("SELECT count() FROM prices FINAL WHERE id = 2"), (Rows{{"0"}}));
}

}  // namespace
}  // namespace pg2ch::test
