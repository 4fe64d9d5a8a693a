#pragma once
// One server started by a scripts/*-local.sh script in its own directory.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace pg2ch::test {

class LocalServer {
 public:
  // `script` is e.g. "pg-local.sh", found in PG2CH_SOURCE_DIR/scripts; `start_args` follow
  // `start DIR` (ch-cluster-local.sh's shape).
  LocalServer(std::string script, std::filesystem::path dir, std::vector<std::string> start_args = {});

  // Starts the server and returns the variables its `env` command prints (PG_PORT, CH_PORT, ...).
  // Throws std::runtime_error with the script's output when it fails.
  // `extra` follows the start arguments (e.g. the port it had, to start it again there).
  std::map<std::string, std::string> start(const std::vector<std::string>& extra = {});
  // Stops the server; returns the script's output when it failed, "" on success. `extra`
  // follows `stop DIR` (pg-local.sh: --immediate).
  std::string stop(const std::vector<std::string>& extra = {});
  std::vector<std::string> stop_command() const;
  // Runs another verb of the script (`VERB DIR extra...`); throws std::runtime_error with its
  // output when it fails.
  void run(const std::string& verb, const std::vector<std::string>& extra = {});

 private:
  std::vector<std::string> command(const std::string& verb) const;

  std::string script_path_;
  std::filesystem::path dir_;
  std::vector<std::string> start_args_;
};

}  // namespace pg2ch::test
