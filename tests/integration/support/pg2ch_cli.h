#pragma once
// `pg2ch --config FILE <args>` as a child process, its output in the test database's directory
// under `tag` (e.g. "setup" -> setup.stdout.log).
#include <rapidjson/document.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/test_database.h"

namespace pg2ch::test {

inline ChildProcess pg2ch_cli(const TestDatabase& db, const std::filesystem::path& config,
                              std::vector<std::string> args, const std::string& tag) {
  args.insert(args.begin(), {"--config", config.string()});
  return ChildProcess::spawn_pg2ch({.args = std::move(args), .env = {}, .dir = db.dir(), .log_prefix = tag});
}

// `pg2ch status --json` run to completion and parsed; throws (failing the test with the output)
// when it prints no JSON or exits other than 0 — or 3 (a table or the pipeline needs attention)
// when `attention_ok`.
inline rapidjson::Document pg2ch_status_json(const TestDatabase& db, const std::filesystem::path& config,
                                             const std::string& tag, bool attention_ok = false) {
  auto status = pg2ch_cli(db, config, {"status", "--json"}, tag);
  const int code = status.wait(std::chrono::seconds(60)).value_or(-1);
  if (code != 0 && !(attention_ok && code == 3)) throw std::runtime_error("status --json: " + status.describe());
  rapidjson::Document d;
  d.Parse(status.stdout_text().c_str());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("status --json printed: " + status.stdout_text());
  return d;
}

// The notes of `status --json`, one per line.
inline std::string status_notes(const rapidjson::Document& status) {
  std::string out;
  for (const auto& n : status["notes"].GetArray()) out += std::string(n.GetString()) + "\n";
  return out;
}

// One table's row of `status --json`.
struct StatusTableRow {
  std::string state;  // "(not listed)" when the table is not in the report
  std::string last_error;
};

inline StatusTableRow status_table_row(const rapidjson::Document& status, const std::string& table) {
  for (const auto& t : status["tables"].GetArray()) {
    if (t["table"].GetString() == table) return {t["state"].GetString(), t["last_error"].GetString()};
  }
  return {"(not listed)", ""};
}

// A table's state as `status --json` shows it: "streaming " (state, space, last error), or what
// went wrong asking.
inline std::string pg2ch_table_state(const TestDatabase& db, const std::filesystem::path& config,
                                     const std::string& table) {
  try {
    const auto row = status_table_row(pg2ch_status_json(db, config, "status", /*attention_ok=*/true), table);
    return row.state == "(not listed)" ? row.state : row.state + " " + row.last_error;
  } catch (const std::exception& e) {
    return std::string("(status: ") + e.what() + ")";
  }
}

}  // namespace pg2ch::test
