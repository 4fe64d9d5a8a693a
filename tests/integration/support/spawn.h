#pragma once
// fork + exec with the hygiene every child of the test binary needs: no inherited descriptors
// beyond stdin/stdout/stderr (a leaked pipe end would keep the exit guardian or a server
// waiting), default signal dispositions and an empty signal mask.
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pg2ch::test::detail {

struct SpawnSpec {
  std::vector<std::string> argv;                         // argv[0] is the program path
  std::map<std::string, std::string> extra_env;         // added to / replacing this process's environment
  std::vector<std::string> drop_env_prefixes;           // inherited variables starting so are left out
  std::optional<std::string> working_dir;
  int stdin_fd = -1;                                     // -1: /dev/null
  int stdout_fd = -1;                                    // -1: /dev/null
  int stderr_fd = -1;                                    // -1: /dev/null
  bool new_session = false;                              // detach from our terminal and process group
  // SIGKILL the child when the spawning *thread* ends (PR_SET_PDEATHSIG), so a crashed test run
  // leaves no pg2ch behind. Spawn such children from the test's own thread, not a helper thread.
  bool die_with_parent = false;
};

// Returns the child's pid; throws std::runtime_error when the program cannot be started (exec
// errors are reported, not turned into an exit code 127).
pid_t spawn(const SpawnSpec& spec);

// Exit code of a reaped child: its exit status, or 128 + signal like a shell.
int exit_code_of(int wait_status);

}  // namespace pg2ch::test::detail
