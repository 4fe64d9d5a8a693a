#include "support/spawn.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace pg2ch::test::detail {
namespace {

std::vector<std::string> merged_environment(const SpawnSpec& spec) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    bool dropped = false;
    for (const auto& prefix : spec.drop_env_prefixes) dropped = dropped || entry.starts_with(prefix);
    if (!dropped) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : spec.extra_env) env[k] = v;
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

// Between fork and exec only async-signal-safe calls are allowed (other threads may have held
// malloc's lock at fork time): everything below is a plain system call.
[[noreturn]] void report_and_exit(int error_fd, int err) {
  [[maybe_unused]] auto n = ::write(error_fd, &err, sizeof err);
  ::_exit(127);
}

[[noreturn]] void exec_child(const SpawnSpec& spec, pid_t parent, int error_fd, char** argv, char** envp) {
  auto fail = [&](int err) { report_and_exit(error_fd, err); };
  if (spec.new_session && ::setsid() < 0) fail(errno);
  if (spec.die_with_parent) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  }
  int targets[3] = {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
  for (int target = 0; target < 3; ++target) {
    int fd = targets[target];
    if (fd < 0) fd = ::open("/dev/null", target == 0 ? O_RDONLY : O_WRONLY);
    if (fd < 0 || ::dup2(fd, target) < 0) fail(errno);
  }
  if (spec.working_dir && ::chdir(spec.working_dir->c_str()) != 0) fail(errno);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for KILL/STOP
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Nothing but 0-2 and the exec-error pipe (close-on-exec) may reach the program.
  ::close_range(3, error_fd - 1, 0);
  ::close_range(error_fd + 1, ~0u, 0);
  ::execve(argv[0], argv, envp);
  report_and_exit(error_fd, errno);
}

}  // namespace

pid_t spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) throw std::invalid_argument("spawn: empty argv");
  auto argv = spec.argv;
  auto env = merged_environment(spec);
  auto argv_p = pointers(argv);
  auto env_p = pointers(env);

  // The child reports a failed exec through this pipe; a successful exec closes it silently.
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) throw std::runtime_error("spawn: pipe2 failed");
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) exec_child(spec, parent, error_pipe[1], argv_p.data(), env_p.data());
  ::close(error_pipe[1]);
  if (pid < 0) {
    ::close(error_pipe[0]);
    throw std::runtime_error("spawn: fork failed: " + std::string(std::strerror(errno)));
  }
  int child_errno = 0;
  ssize_t n;
  while ((n = ::read(error_pipe[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  ::close(error_pipe[0]);
  if (n > 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    throw std::runtime_error("cannot start " + spec.argv[0] + ": " + std::strerror(child_errno));
  }
  return pid;
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace pg2ch::test::detail
