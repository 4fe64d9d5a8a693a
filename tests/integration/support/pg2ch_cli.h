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
// when it does not exit 0 or prints no JSON.
inline rapidjson::Document pg2ch_status_json(const TestDatabase& db, const std::filesystem::path& config,
                                             const std::string& tag) {
  auto status = pg2ch_cli(db, config, {"status", "--json"}, tag);
  if (status.wait(std::chrono::seconds(60)) != 0) throw std::runtime_error("status --json: " + status.describe());
  rapidjson::Document d;
  d.Parse(status.stdout_text().c_str());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("status --json printed: " + status.stdout_text());
  return d;
}

// A table's state as `status --json` shows it: "streaming " (state, space, last error), or what
// went wrong asking.
inline std::string pg2ch_table_state(const TestDatabase& db, const std::filesystem::path& config,
                                     const std::string& table) {
  auto status = pg2ch_cli(db, config, {"status", "--json"}, "status");
  status.wait(std::chrono::seconds(60));
  rapidjson::Document d;
  d.Parse(status.stdout_text().c_str());
  if (d.HasParseError() || !d.IsObject()) return "(status: " + status.stdout_text() + ")";
  for (const auto& t : d["tables"].GetArray()) {
    if (t["table"].GetString() == table) return std::string(t["state"].GetString()) + " " + t["last_error"].GetString();
  }
  return "(not listed)";
}

}  // namespace pg2ch::test
