#pragma once
// One `pg2ch` command run to completion against a test config, and the check every operator
// error shares: its exit code and one "pg2ch: error: ..." line naming the object and the fix.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "support/child_process.h"
#include "support/test_config.h"
#include "support/test_database.h"

namespace pg2ch::test {

struct CliOutcome {
  int exit_code;
  std::string stdout_text;
  std::string stderr_text;
};

// `pg2ch --config <cfg written to db.dir()> <command>` (e.g. "setup", "run"), waited for 60 s.
inline CliOutcome run_cli(const TestDatabase& db, const config::Config& cfg, const std::string& command,
                          std::map<std::string, std::string> env = {}) {
  const auto file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto p = ChildProcess::spawn_pg2ch(
      {.args = {"--config", file.string(), command}, .env = std::move(env), .dir = db.dir(), .log_prefix = command});
  const auto code = p.wait(std::chrono::seconds(60));
  return {code.value_or(-1), p.stdout_text(), p.stderr_text()};
}

inline CliOutcome run_setup(const TestDatabase& db, const config::Config& cfg,
                            std::map<std::string, std::string> env = {}) {
  return run_cli(db, cfg, "setup", std::move(env));
}

// The error line of `o` contains every needle, and pg2ch exited with `exit_code`.
inline void expect_one_line_error(const CliOutcome& o, const std::vector<std::string>& needles, int exit_code) {
  EXPECT_EQ(o.exit_code, exit_code) << o.stderr_text;
  const auto pos = o.stderr_text.find("pg2ch: error: ");
  ASSERT_NE(pos, std::string::npos) << o.stderr_text;
  const std::string line = o.stderr_text.substr(pos, o.stderr_text.find('\n', pos) - pos);
  for (const auto& n : needles) EXPECT_NE(line.find(n), std::string::npos) << "missing '" << n << "' in: " << line;
}

}  // namespace pg2ch::test
