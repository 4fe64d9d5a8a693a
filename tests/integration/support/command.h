#pragma once
// Runs a helper program (the pg-local.sh / ch-local.sh scripts) to completion and captures its
// output, for the fixture's own plumbing. Tests spawn pg2ch with ChildProcess instead.
#include <string>
#include <vector>

namespace pg2ch::test {

struct CommandResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string output;  // stdout and stderr, interleaved
};

CommandResult run_command(const std::vector<std::string>& argv);

}  // namespace pg2ch::test
