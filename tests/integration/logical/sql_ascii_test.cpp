// Text that is not UTF-8, from a SQL_ASCII database (issue 13 item 3; docs/bad-input.md). Such a
// database stores any bytes but NUL; pg2ch asks for no client encoding, so PostgreSQL converts
// nothing and ClickHouse's String (bytes) receives exactly the bytes PostgreSQL holds — Latin-1,
// lone UTF-8 continuation bytes, 0xFF — through the snapshot and the stream, and `pg2ch verify`
// compares them byte for byte. NUL is refused by PostgreSQL itself (in text even in SQL_ASCII);
// bytea carries it and arrives whole.
#include <gtest/gtest.h>

#include "support/child_process.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_database_created_with.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(SqlAsciiSource, BytesThatAreNotUtf8ArriveAsTheyAreAndVerifyFindsThemEqual) {
  auto db = make_test_database_created_with("ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
  ASSERT_EQ(db.pg_rows("SHOW server_encoding"), Rows{{"SQL_ASCII"}});
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, s text, c char(4), v varchar(8), b bytea)");
  // Latin-1 'café', a lone continuation byte, 0xFF 0xFE, a truncated 3-byte sequence, valid UTF-8.
  const std::string rows =
      "(1, E'caf\\xe9', E'\\xe9t\\xe9', E'\\x80', '\\x00ff'::bytea), "
      "(2, E'\\xff\\xfe', E'\\xe2\\x82', E'a\\xc3', '\\x00'::bytea), "
      "(3, 'ok ✓', '', NULL, NULL)";
  db.pg_exec("INSERT INTO t VALUES " + rows);
  EXPECT_THROW(db.pg_exec("INSERT INTO t VALUES (9, E'a\\x00b')"), Error) << "PostgreSQL takes no NUL in text";

  const TableQuery q{"SELECT id, encode(s::bytea, 'hex'), encode(format('%s', c)::bytea, 'hex'), encode(v::bytea, 'hex'), "
                     "encode(b, 'hex') FROM t ORDER BY id",
                     "SELECT id, lower(hex(s)), lower(hex(c)), lower(hex(v)), lower(hex(b)) FROM t FINAL "
                     "WHERE _deleted = 0 ORDER BY id"};
  const auto cfg = make_test_config(db, {"public.t"});
  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_equal(db, q)) << "snapshot";
  db.pg_exec("INSERT INTO t SELECT id + 10, s || E'\\xa0', c, v, b FROM t");
  db.pg_exec("UPDATE t SET s = E'\\xfe' || s WHERE id IN (1, 12)");
  ASSERT_TRUE(wait_equal(db, q)) << "stream";
  runner.stop();

  const auto file = write_config_file(cfg, db.dir() / "verify.toml");
  auto verify = ChildProcess::spawn_pg2ch(
      {.args = {"--config", file.string(), "verify", "--settle-ms", "0"}, .dir = db.dir(), .log_prefix = "verify"});
  EXPECT_EQ(verify.wait(60s), 0) << verify.describe();
  EXPECT_NE(verify.stdout_text().find("public.t: equal, 6 rows"), std::string::npos) << verify.describe();
}

}  // namespace
}  // namespace pg2ch::test
