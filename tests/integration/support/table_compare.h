#pragma once
// Row-level comparison of a source table and its ClickHouse current state.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "clickhouse/tab_separated.h"
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

// Waits until both sides agree (the pipeline is asynchronous). On timeout the result shows the
// first rows that differ, so a failing test says what is wrong rather than just "false".
// `ch_server` is the ClickHouse server to read (a cluster's host); by default the run's own one.
inline ::testing::AssertionResult wait_equal(TestDatabase& db, const TableQuery& q,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(60),
                                             clickhouse::HttpClient* ch_server = nullptr) {
  Rows pg, ch;
  const bool equal = wait_until(
      [&] {
        try {
          pg = db.pg_rows(q.pg_sql);
          ch = ch_server ? clickhouse::parse_tab_separated(ch_server->query(q.ch_sql + " FORMAT TabSeparated"))
                         : db.ch_rows(q.ch_sql);
          return pg == ch;
        } catch (const Error& e) {
          if (e.kind() == ErrorKind::Schema) return false;  // the pipeline has not created the target yet
          // A column the source has and the target not yet (the pipeline adds it when it meets the
          // change: UNKNOWN_IDENTIFIER, 18.16 and 26.x alike).
          if (std::string_view(e.what()).find("(code 47,") != std::string_view::npos) return false;
          throw;
        }
      },
      timeout, std::chrono::milliseconds(100));
  if (equal) return ::testing::AssertionSuccess();
  auto out = ::testing::AssertionFailure();
  out << "PostgreSQL has " << pg.size() << " rows, ClickHouse " << ch.size() << ".";
  int shown = 0;
  for (std::size_t i = 0; i < std::max(pg.size(), ch.size()) && shown < 5; ++i) {
    const auto* a = i < pg.size() ? &pg[i] : nullptr;
    const auto* b = i < ch.size() ? &ch[i] : nullptr;
    if (a && b && *a == *b) continue;
    ++shown;
    out << "\n  row " << i << ":";
    for (std::size_t c = 0; c < std::max(a ? a->size() : 0, b ? b->size() : 0); ++c) {
      const std::string x = a && c < a->size() ? (*a)[c] : "<none>";
      const std::string y = b && c < b->size() ? (*b)[c] : "<none>";
      if (x != y) out << " col " << c << " pg=[" << x << "] ch=[" << y << "]";
    }
  }
  return out;
}

}  // namespace pg2ch::test
