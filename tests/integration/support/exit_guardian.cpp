#include "support/exit_guardian.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <utility>

#include "support/spawn.h"

namespace pg2ch::test {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

ExitGuardian::ExitGuardian(const std::vector<std::vector<std::string>>& commands, const std::filesystem::path& log) {
  std::string cleanup;
  for (const auto& argv : commands) {
    for (const auto& arg : argv) cleanup += shell_quote(arg) + " ";
    cleanup += "; ";
  }
  // The outer shell exits at once, so the waiting subshell is re-parented to init and outlives
  // a kill of our whole process tree; its own session keeps terminal signals away from it.
  std::string script = "{ cat >/dev/null; " + cleanup + "} <&3 3<&- >>" + shell_quote(log.string()) + " 2>&1 &";

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("exit guardian: pipe2 failed");
  // The read end must survive into the shell as fd 3; spawn() closes fds >= 3, so pass it as
  // stdin and let the shell move it.
  detail::SpawnSpec spec;
  spec.argv = {"/bin/bash", "-c", "exec 3<&0 </dev/null; " + script};
  spec.stdin_fd = fds[0];
  spec.new_session = true;
  pid_t pid = -1;
  try {
    pid = detail::spawn(spec);
  } catch (...) {
    close(fds[0]);
    close(fds[1]);
    throw;
  }
  close(fds[0]);
  write_fd_ = fds[1];
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

ExitGuardian::ExitGuardian(ExitGuardian&& other) noexcept : write_fd_(std::exchange(other.write_fd_, -1)) {}

ExitGuardian& ExitGuardian::operator=(ExitGuardian&& other) noexcept {
  if (this != &other) {
    if (write_fd_ >= 0) close(write_fd_);
    write_fd_ = std::exchange(other.write_fd_, -1);
  }
  return *this;
}

ExitGuardian::~ExitGuardian() {
  if (write_fd_ >= 0) close(write_fd_);
}

}  // namespace pg2ch::test
