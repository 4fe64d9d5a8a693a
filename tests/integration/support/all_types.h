#pragma once
// A table with every mapped type and the awkward values of each (NaN/±Infinity and -0 floats,
// extreme floats, NaN numerics, json text with odd spacing and duplicate keys, json `null`, 2-D
// arrays, microsecond timestamps, intervals, money, enum, domain), shared by the type tests of
// every route so they all check the same values.
#include <string>
#include <vector>

#include "support/table_compare.h"
#include "support/test_database.h"

namespace pg2ch::test::all_types {

// Creates the enum, the domain and table all_types.
inline void create(TestDatabase& db) {
  db.pg_exec("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
  db.pg_exec("CREATE DOMAIN positive_ish AS integer CHECK (VALUE > -10)");
  db.pg_exec(R"SQL(
    CREATE TABLE all_types (
      id int PRIMARY KEY, c_int2 smallint, c_int8 bigint, c_float4 real, c_float8 double precision,
      c_num numeric(12,3), c_num_free numeric, c_text text, c_char char(2), c_bool boolean,
      c_date date, c_ts timestamp, c_tstz timestamptz, c_time time, c_uuid uuid, c_json json, c_jsonb jsonb,
      c_bytea bytea, c_mood mood, c_ints int[], c_texts text[], c_grid int[][], c_interval interval, c_inet inet,
      c_money money, c_domain positive_ish, c_int4 integer, c_varchar varchar(400)))SQL");
}

struct Column {
  std::string pg_expr;
  std::string ch_expr;
};

// The same cells from both sides (run with intervalstyle = iso_8601 on the PostgreSQL session).
inline TableQuery query(bool datetime64, bool bool_type) {
  const auto us = [&](const std::string& c) {
    return datetime64 ? "toString(toUnixTimestamp64Micro(" + c + "))" : "toString(" + c + ")";
  };
  // Floats compare bit for bit (NaN, -0), as the integers with the same bits.
  const std::vector<Column> cols = {
      {"id", "id"},
      {"c_int2", "c_int2"},
      {"c_int8", "c_int8"},
      {"('x' || encode(float4send(c_float4), 'hex'))::bit(32)::int",
       "reinterpretAsInt32(reinterpretAsString(c_float4))"},
      {"('x' || encode(float8send(c_float8), 'hex'))::bit(64)::bigint",
       "reinterpretAsInt64(reinterpretAsString(c_float8))"},
      {"c_num", "c_num"},
      {"c_num_free", "c_num_free"},
      {"c_text", "c_text"},
      {"c_char", "c_char"},
      {"c_bool::int", bool_type ? "toUInt8(c_bool)" : "c_bool"},
      {"c_date - date '1970-01-01'", "toInt32(c_date)"},
      {"(extract(epoch from c_ts) * 1000000)::bigint", us("c_ts")},
      {"(extract(epoch from c_tstz) * 1000000)::bigint", us("c_tstz")},
      {"(extract(epoch from c_time) * 1000000)::bigint", "c_time"},
      {"c_uuid", "toString(c_uuid)"},
      {"c_json::text", "c_json"},
      {"c_jsonb::text", "c_jsonb"},
      {"encode(c_bytea, 'hex')", "lower(hex(c_bytea))"},
      {"c_mood::text", "c_mood"},
      {"coalesce(array_to_string(c_ints, ',', 'N'), '')",
       "arrayStringConcat(arrayMap(x -> ifNull(toString(x), 'N'), c_ints), ',')"},
      {"coalesce(array_to_string(c_texts, '|', 'N'), '')",
       "arrayStringConcat(arrayMap(x -> ifNull(x, 'N'), c_texts), '|')"},
      {"coalesce(c_grid::text, '{}')", "replaceAll(replaceAll(toString(c_grid), '[', '{'), ']', '}')"},
      {"c_interval", "c_interval"},
      {"c_inet", "c_inet"},
      {"(c_money::numeric * 100)::bigint", "c_money"},
      {"c_domain", "c_domain"},
      {"c_int4", "c_int4"},
      {"c_varchar", "c_varchar"},
  };
  std::string pg, ch;
  for (const auto& c : cols) {
    pg += (pg.empty() ? "" : ", ") + c.pg_expr;
    ch += (ch.empty() ? "" : ", ") + c.ch_expr;
  }
  return {"SELECT " + pg + " FROM all_types ORDER BY id",
          "SELECT " + ch + " FROM all_types FINAL WHERE _deleted = 0 ORDER BY id"};
}

inline constexpr const char* kRows = R"SQL(
INSERT INTO all_types VALUES
 (1, 1, 3, 1.5, 2.25, 12345.678, 3.14159265358979323846, 'plain', 'c', true, '2024-02-29',
  '2020-01-01 00:00:00.123456', '2021-06-30 23:59:59.999999+02', '12:34:56.789012',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1,  "a": [1, 2], "a": 3}', '{"z": null, "a": "x"}', '\x00ff10',
  'happy', '{1,NULL,3}', '{"x","y z",NULL}', '{{1,2},{3,NULL}}', '1 year 2 mons 3 days 04:05:06.789', '2001:db8::1/64',
  12.34, 42, 2, 'v'),
 (2, -32768, -9223372036854775808, 'NaN', '-0', -0.001, 'NaN', E'tab\there\nnewline', 'ab', false,
  '1970-01-01', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', '24:00', '00000000-0000-0000-0000-000000000000',
  'null', 'null', '\x', 'sad', '{}', '{}', '{}', '-1 days -00:00:01', '10.0.0.0/8', -1, -1, -2147483648, ''),
 (3, 32767, 9223372036854775807, 'Infinity', '-Infinity', 999999999.999, 'Infinity', 'ünïcødé ✓', 'z', NULL,
  '2100-12-31', '2262-04-11 23:47:16', '2200-01-01 00:00:00.5+00', '23:59:59.999999',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '[1.0, 1e400]', '"str"', '\xdeadbeef', 'ok', '{-1}', '{""}', '{{NULL}}',
  '0', '1.2.3.4', 0, 0, 2147483647, repeat('x', 300)),
 (4, NULL, NULL, 1e-45, 2.2250738585072014e-308, 0, 12345678901234567890.123456789000, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, 0, 0, 3.4028235e38, 1.7976931348623157e308, 0, 1e-100, '', ' ', true, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL)
)SQL";

// The changes the type tests stream after the first rows: every row again under id + 100, updates
// of several columns of two rows, one delete.
inline void copy_update_and_delete(TestDatabase& db) {
  db.pg_exec(
      "INSERT INTO all_types SELECT id + 100, c_int2, c_int8, c_float4, c_float8, c_num, c_num_free, c_text, "
      "c_char, c_bool, c_date, c_ts, c_tstz, c_time, c_uuid, c_json, c_jsonb, c_bytea, c_mood, c_ints, c_texts, "
      "c_grid, c_interval, c_inet, c_money, c_domain, c_int4, c_varchar FROM all_types");
  db.pg_exec(
      "UPDATE all_types SET c_text = c_text || '!', c_ints = c_ints || 7, c_num = c_num + 1, "
      "c_tstz = c_tstz + interval '1 microsecond', c_mood = 'ok', c_jsonb = '[null]' WHERE id IN (1, 101)");
  db.pg_exec("DELETE FROM all_types WHERE id = 103");
}

}  // namespace pg2ch::test::all_types
