#pragma once
// Shared by the security tests: rows of a server that is not the shared fixture, and a pg2ch
// command run to completion with its output.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <string>
#include <vector>

#include "clickhouse/http_client.h"
#include "clickhouse/tab_separated.h"
#include "pg/connection.h"
#include "support/child_process.h"
#include "support/cli_outcome.h"
#include "support/test_database.h"

namespace pg2ch::test::security {

inline Rows rows_of(pg::Connection& conn, const std::string& sql) {
  auto r = conn.query(sql);
  Rows out;
  for (int i = 0; i < r.rows(); ++i) {
    out.emplace_back();
    for (int c = 0; c < r.cols(); ++c) out.back().push_back(r.is_null(i, c) ? "\\N" : r.text(i, c));
  }
  return out;
}

inline Rows rows_of(clickhouse::HttpClient& ch, const std::string& sql) {
  return clickhouse::parse_tab_separated(ch.query(sql + " FORMAT TabSeparated"));
}

// Source and target rows equal; otherwise the counts and the first rows that differ.
inline ::testing::AssertionResult same_rows(const Rows& pg, const Rows& ch) {
  if (pg == ch) return ::testing::AssertionSuccess();
  auto out = ::testing::AssertionFailure();
  out << "PostgreSQL has " << pg.size() << " rows, ClickHouse " << ch.size();
  int shown = 0;
  for (std::size_t i = 0; i < std::max(pg.size(), ch.size()) && shown < 5; ++i) {
    const std::string a = i < pg.size() ? fmt::format("{}", fmt::join(pg[i], "|")) : "<none>";
    const std::string b = i < ch.size() ? fmt::format("{}", fmt::join(ch[i], "|")) : "<none>";
    if (a == b) continue;
    ++shown;
    out << "\n  row " << i << ": pg=[" << a << "] ch=[" << b << "]";
  }
  return out;
}

// `pg2ch --config <file> <args...>` to completion (120 s at most), with extra environment.
inline CliOutcome run_pg2ch(const TestDatabase& db, const std::filesystem::path& config, std::vector<std::string> args,
                            const std::string& tag, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), {"--config", config.string()});
  auto p = ChildProcess::spawn_pg2ch({.args = std::move(args), .env = std::move(env), .dir = db.dir(), .log_prefix = tag});
  const auto code = p.wait(std::chrono::seconds(120));
  return {code.value_or(-1), p.stdout_text(), p.stderr_text()};
}

}  // namespace pg2ch::test::security
