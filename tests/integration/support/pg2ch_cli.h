#pragma once
// `pg2ch --config FILE <args>` as a child process, its output in the test database's directory
// under `tag` (e.g. "setup" -> setup.stdout.log).
#include <filesystem>
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

}  // namespace pg2ch::test
