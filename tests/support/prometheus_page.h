#pragma once
// A Prometheus text exposition read the way Prometheus reads it: parsed by the reference client's
// parser (tests/support/parse_prometheus.py, Debian's python3-prometheus-client) and linted by
// `promtool check metrics` (Debian's prometheus), never by pattern matching.
#include <rapidjson/document.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pg2ch::test {

struct PrometheusSample {
  std::string family, type, name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct ToolRun {
  int exit_code = -1;
  std::string output;
};

// Runs `command` with `input` on stdin (through a temp file), stdout and stderr captured.
inline ToolRun run_with_input(const std::string& command, const std::string& input) {
  const auto path = std::filesystem::temp_directory_path() / ("pg2ch-prom-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path) << input;
  ToolRun r;
  FILE* p = ::popen((command + " < '" + path.string() + "' 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + command);
  std::array<char, 4096> buf;
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) r.output.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::filesystem::remove(path);
  return r;
}

// Throws when the page does not parse.
inline std::vector<PrometheusSample> parse_prometheus(const std::string& page) {
  const std::string parser = std::string("/usr/bin/python3 ") + PG2CH_SOURCE_DIR + "/tests/support/parse_prometheus.py";
  const ToolRun r = run_with_input(parser, page);
  if (r.exit_code != 0) throw std::runtime_error("the Prometheus parser rejected the page: " + r.output);
  std::vector<PrometheusSample> out;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    rapidjson::Document d;
    d.Parse(line.c_str());
    if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("parser output: " + line);
    PrometheusSample s;
    s.family = d["family"].GetString();
    s.type = d["type"].GetString();
    s.name = d["name"].GetString();
    for (auto it = d["labels"].MemberBegin(); it != d["labels"].MemberEnd(); ++it) {
      s.labels[it->name.GetString()] = it->value.GetString();
    }
    s.value = d["value"].GetDouble();
    out.push_back(std::move(s));
  }
  return out;
}

// The value of the sample `name` whose labels include `labels`; nullopt when there is none.
inline std::optional<double> sample_value(const std::vector<PrometheusSample>& page, const std::string& name,
                                          const std::map<std::string, std::string>& labels = {}) {
  for (const auto& s : page) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      const auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) return s.value;
  }
  return std::nullopt;
}

// `promtool check metrics`: format and naming conventions. Empty when clean, else its findings.
inline std::string promtool_findings(const std::string& page) {
  const ToolRun r = run_with_input("promtool check metrics", page);
  return r.exit_code == 0 && r.output.find("error") == std::string::npos ? std::string() : r.output;
}

}  // namespace pg2ch::test
