#include "support/child_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "support/servers.h"
#include "support/spawn.h"
#include "support/test_database.h"

namespace pg2ch::test {
namespace {

std::filesystem::path fresh_dir() {
  static std::atomic<int> counter{0};
  auto dir = run_dir() / "processes" / (database_name_for_current_test() + "_" + std::to_string(++counter));
  std::filesystem::create_directories(dir);
  return dir;
}

int open_log(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path.string());
  return fd;
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ChildProcess ChildProcess::spawn(const std::string& program, SpawnOptions options) {
  return start(program, std::move(options), {});
}

ChildProcess ChildProcess::spawn_pg2ch(SpawnOptions options) {
  return start(PG2CH_BINARY, std::move(options), {"PG_", "CH_", "PG2CH_"});
}

ChildProcess ChildProcess::start(const std::string& program, SpawnOptions options,
                                 std::vector<std::string> drop_env_prefixes) {
  if (options.dir.empty()) options.dir = fresh_dir();
  std::filesystem::create_directories(options.dir);
  ChildProcess child;
  child.stdout_path_ = options.dir / (options.log_prefix + ".stdout.log");
  child.stderr_path_ = options.dir / (options.log_prefix + ".stderr.log");
  int out = open_log(child.stdout_path_);
  int err = open_log(child.stderr_path_);
  detail::SpawnSpec spec;
  spec.argv.push_back(program);
  spec.argv.insert(spec.argv.end(), options.args.begin(), options.args.end());
  spec.extra_env = std::move(options.env);
  spec.drop_env_prefixes = std::move(drop_env_prefixes);
  spec.working_dir = options.dir.string();
  spec.stdout_fd = out;
  spec.stderr_fd = err;
  spec.die_with_parent = true;
  try {
    child.pid_ = detail::spawn(spec);
  } catch (...) {
    ::close(out);
    ::close(err);
    throw;
  }
  ::close(out);
  ::close(err);
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      exit_code_(other.exit_code_),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !exit_code_) stop(SIGKILL);
    pid_ = std::exchange(other.pid_, -1);
    exit_code_ = other.exit_code_;
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_code_) stop(SIGKILL);
}

bool ChildProcess::reap(bool block) {
  if (exit_code_) return true;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r == pid_) {
      exit_code_ = detail::exit_code_of(status);
      return true;
    }
    if (r == 0) return false;
    if (errno != EINTR) throw std::runtime_error("waitpid failed for pid " + std::to_string(pid_));
  }
}

bool ChildProcess::running() { return pid_ > 0 && !reap(false); }

void ChildProcess::signal(int sig) {
  // Only while it has not been reaped: after that the pid may belong to someone else.
  if (running()) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

int ChildProcess::stop(int sig, std::chrono::milliseconds grace) {
  signal(sig);
  if (auto code = wait(grace)) return *code;
  signal(SIGKILL);
  reap(true);
  return *exit_code_;
}

std::string ChildProcess::stdout_text() const { return read_all(stdout_path_); }
std::string ChildProcess::stderr_text() const { return read_all(stderr_path_); }

std::string ChildProcess::describe() const {
  std::string s = exit_code_ ? "exit " + std::to_string(*exit_code_) : "running (pid " + std::to_string(pid_) + ")";
  return s + "; stderr (" + stderr_path_.string() + "):\n" + stderr_text();
}

}  // namespace pg2ch::test
