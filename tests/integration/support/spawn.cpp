#include "support/spawn.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace pg2ch::test::detail {
namespace {

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string("spawn: ") + what + ": " + std::strerror(rc));
}

}  // namespace

pid_t spawn(const SpawnSpec& spec) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  check(posix_spawn_file_actions_init(&actions), "file actions");
  check(posix_spawnattr_init(&attr), "attributes");

  auto redirect = [&](int fd, int target, int open_flags) {
    if (fd >= 0)
      check(posix_spawn_file_actions_adddup2(&actions, fd, target), "dup2");
    else
      check(posix_spawn_file_actions_addopen(&actions, target, "/dev/null", open_flags, 0), "open /dev/null");
  };
  redirect(spec.stdin_fd, 0, O_RDONLY);
  redirect(spec.stdout_fd, 1, O_WRONLY);
  redirect(spec.stderr_fd, 2, O_WRONLY);
  check(posix_spawn_file_actions_addclosefrom_np(&actions, 3), "closefrom");
  if (spec.working_dir) check(posix_spawn_file_actions_addchdir_np(&actions, spec.working_dir->c_str()), "chdir");

  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (spec.new_session) flags |= POSIX_SPAWN_SETSID;
  check(posix_spawnattr_setflags(&attr, flags), "flags");
  check(posix_spawnattr_setsigdefault(&attr, &all), "signal defaults");
  check(posix_spawnattr_setsigmask(&attr, &none), "signal mask");

  auto argv = spec.argv;
  auto env = merged_environment(spec.extra_env);
  auto argv_p = pointers(argv);
  auto env_p = pointers(env);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv_p[0], &actions, &attr, argv_p.data(), env_p.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("cannot start " + spec.argv.at(0) + ": " + std::strerror(rc));
  return pid;
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace pg2ch::test::detail
