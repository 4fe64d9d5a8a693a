#pragma once
// Row-level comparison of a source table and its ClickHouse current state.
#include <string>

#include "common/error.h"

#include "support/test_database.h"
#include "support/wait.h"

namespace pg2ch::test {

// PostgreSQL rows of `pg_select` vs ClickHouse rows of `ch_select` over `<table> FINAL WHERE
// _deleted = 0`; both must produce the same text cells in the same order.
struct TableQuery {
  std::string pg_sql;   // full SELECT on the source
  std::string ch_sql;   // full SELECT on the target (use FINAL WHERE _deleted = 0)
};

inline TableQuery same_columns(const std::string& table, const std::string& columns, const std::string& order_by) {
  return {"SELECT " + columns + " FROM " + table + " ORDER BY " + order_by,
          "SELECT " + columns + " FROM " + table + " FINAL WHERE _deleted = 0 ORDER BY " + order_by};
}

// Waits until both sides agree (the pipeline is asynchronous); returns true when they do.
inline bool wait_equal(TestDatabase& db, const TableQuery& q, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  return wait_until(
      [&] {
        try {
          return db.pg_rows(q.pg_sql) == db.ch_rows(q.ch_sql);
        } catch (const Error& e) {
          if (e.kind() == ErrorKind::Schema) return false;  // the pipeline has not created the target yet
          throw;
        }
      },
      timeout, std::chrono::milliseconds(100));
}

}  // namespace pg2ch::test
