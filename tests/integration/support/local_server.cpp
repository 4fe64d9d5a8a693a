#include "support/local_server.h"

#include <sstream>
#include <stdexcept>

#include "support/command.h"

namespace pg2ch::test {
namespace {

// Reads the `export NAME=value` lines the scripts print (values are plain: ports, names).
std::map<std::string, std::string> parse_exports(const std::string& text) {
  std::map<std::string, std::string> vars;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("export ")) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    vars[line.substr(7, eq - 7)] = line.substr(eq + 1);
  }
  return vars;
}

}  // namespace

LocalServer::LocalServer(std::string script, std::filesystem::path dir, std::vector<std::string> start_args)
    : script_path_(std::string(PG2CH_SOURCE_DIR) + "/scripts/" + script),
      dir_(std::move(dir)),
      start_args_(std::move(start_args)) {}

std::vector<std::string> LocalServer::command(const std::string& verb) const {
  return {"/bin/bash", script_path_, verb, dir_.string()};
}

std::vector<std::string> LocalServer::stop_command() const { return command("stop"); }

std::map<std::string, std::string> LocalServer::start(const std::vector<std::string>& extra) {
  auto start = command("start");
  start.insert(start.end(), start_args_.begin(), start_args_.end());
  start.insert(start.end(), extra.begin(), extra.end());
  auto started = run_command(start);
  if (started.exit_code != 0)
    throw std::runtime_error(script_path_ + " start " + dir_.string() + " failed:\n" + started.output);
  auto env = run_command(command("env"));
  if (env.exit_code != 0) throw std::runtime_error(script_path_ + " env failed:\n" + env.output);
  return parse_exports(env.output);
}

std::string LocalServer::stop(const std::vector<std::string>& extra) {
  auto stop = stop_command();
  stop.insert(stop.end(), extra.begin(), extra.end());
  auto stopped = run_command(stop);
  return stopped.exit_code == 0 ? std::string() : stopped.output;
}

void LocalServer::run(const std::string& verb, const std::vector<std::string>& extra) {
  auto cmd = command(verb);
  cmd.insert(cmd.end(), extra.begin(), extra.end());
  auto done = run_command(cmd);
  if (done.exit_code != 0)
    throw std::runtime_error(script_path_ + " " + verb + " " + dir_.string() + " failed:\n" + done.output);
}

}  // namespace pg2ch::test
