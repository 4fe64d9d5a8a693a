#pragma once
// A child process (usually the pg2ch binary) with its stdout and stderr captured to files.
// RAII: the destructor SIGKILLs it if it still runs and reaps it, so a failing test never leaves
// a pg2ch behind holding a replication slot; if the test binary itself dies, the kernel kills the
// child (PR_SET_PDEATHSIG). Spawn from the test's thread: that thread's end counts as the death.
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pg2ch::test {

// Every field has a default, so callers name only what they need: {.args = {"run"}, .dir = d}.
struct SpawnOptions {
  std::vector<std::string> args = {};           // arguments after the program
  std::map<std::string, std::string> env = {};  // added to (or replacing in) the test's environment
  std::filesystem::path dir = {};               // working dir, and where the output files go
                                                // (empty: a fresh directory under run_dir())
  std::string log_prefix = "pg2ch";             // files are <dir>/<prefix>.stdout.log / .stderr.log
};

class ChildProcess {
 public:
  static ChildProcess spawn(const std::string& program, SpawnOptions options);
  // The pg2ch binary built with the tests (PG2CH_BINARY). It does not inherit PG_*, CH_* or
  // PG2CH_* variables: the environment outranks --config, so a developer's
  // `eval "$(scripts/pg-local.sh env ...)"` would otherwise point it at the wrong server.
  // Pass such variables in options.env when a test wants them.
  static ChildProcess spawn_pg2ch(SpawnOptions options);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();                                // false once it exited (reaps it)
  void signal(int sig);                          // no-op when it already exited
  // Waits for the exit; returns the exit code (128 + signal when killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // SIGTERM (or `sig`), wait up to `grace`, then SIGKILL; returns the exit code.
  int stop(int sig = SIGTERM, std::chrono::milliseconds grace = std::chrono::seconds(30));
  int kill() { return stop(SIGKILL); }
  std::optional<int> exit_code() const { return exit_code_; }

  const std::filesystem::path& stdout_path() const { return stdout_path_; }
  const std::filesystem::path& stderr_path() const { return stderr_path_; }
  std::string stdout_text() const;
  std::string stderr_text() const;
  // "exit 2; stderr: ..." — for assertion messages.
  std::string describe() const;

 private:
  ChildProcess() = default;
  static ChildProcess start(const std::string& program, SpawnOptions options,
                            std::vector<std::string> drop_env_prefixes);
  bool reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
};

}  // namespace pg2ch::test
