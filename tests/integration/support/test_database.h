#pragma once
// A fresh database of the same name in PostgreSQL and ClickHouse for one test, with helpers to
// run SQL on both and read rows back as text for comparisons.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/http_client.h"
#include "pg/connection.h"

namespace pg2ch::test {

// Rows as text, one string per cell. NULL is "\N" on both sides (ClickHouse's TabSeparated NULL),
// so PostgreSQL and ClickHouse results compare directly.
using Rows = std::vector<std::vector<std::string>>;
inline const std::string kNull = "\\N";

class TestDatabase {
 public:
  explicit TestDatabase(std::string name);
  TestDatabase(TestDatabase&&) noexcept;
  TestDatabase& operator=(TestDatabase&&) noexcept;
  ~TestDatabase();

  // [a-z0-9_]{1,63}: also usable as a slot, publication or file name without quoting.
  const std::string& name() const { return name_; }
  // Scratch directory for this database's test (state files, configs, pg2ch logs).
  const std::filesystem::path& dir() const { return dir_; }

  pg::Connection& pg();                 // superuser session on this database, opened on first use
  pg::Connection pg_connect() const;    // another session, e.g. for a concurrent transaction
  void pg_forget() { pg_.reset(); }     // pg() opens a new session (after the server restarted)
  clickhouse::HttpClient& ch();         // default user, this database as the default database

  void pg_exec(std::string_view sql) { pg().exec(sql); }
  Rows pg_rows(std::string_view sql);
  void ch_exec(std::string_view sql) { ch().execute(sql); }
  // `sql` is a SELECT without a FORMAT clause; rows come back as TabSeparated, unescaped.
  Rows ch_rows(std::string_view sql);

 private:
  std::string name_;
  std::filesystem::path dir_;
  std::unique_ptr<pg::Connection> pg_;
  std::unique_ptr<clickhouse::HttpClient> ch_;
};

// Drops (if left over) and creates database `name` in both servers. With an empty `name` the name
// comes from the running test ("Suite.Test" -> "suite_test"); a non-empty one is appended to it,
// so tests that need two databases can ask for "a" and "b" without clashing with other tests.
TestDatabase make_test_database(std::string_view name = {});

// "Suite.Test/3" + "b" -> "suite_test_3_b": lowercase [a-z0-9_], at most 63 characters (long
// names keep a hash of the full name so they stay unique).
std::string database_name_for_current_test(std::string_view suffix = {});

}  // namespace pg2ch::test
