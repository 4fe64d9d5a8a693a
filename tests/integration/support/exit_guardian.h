#pragma once
// Stops the servers this run started even when the test binary dies without cleaning up
// (abort, segfault, SIGKILL, ctest timeout). A detached shell blocks reading a pipe whose only
// write end lives in this process; the kernel closes it however the process ends, and the shell
// then runs the cleanup commands. Normal teardown stops the servers first, so those commands are
// no-ops then (the scripts' stop is idempotent).
#include <filesystem>
#include <string>
#include <vector>

namespace pg2ch::test {

class ExitGuardian {
 public:
  ExitGuardian() = default;
  // Each command is an argv; output goes to `log`.
  ExitGuardian(const std::vector<std::vector<std::string>>& commands, const std::filesystem::path& log);
  ExitGuardian(ExitGuardian&& other) noexcept;
  ExitGuardian& operator=(ExitGuardian&& other) noexcept;
  ~ExitGuardian();  // releases the guardian now: it runs the commands and exits

 private:
  int write_fd_ = -1;
};

}  // namespace pg2ch::test
