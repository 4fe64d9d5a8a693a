#include "support/kafka_broker.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "support/command.h"

namespace pg2ch::test {
namespace {

std::optional<std::string> string_or_null(const rapidjson::Value& v) {
  if (v.IsNull()) return std::nullopt;
  return std::string(v.GetString(), v.GetStringLength());
}

}  // namespace

std::vector<KafkaMessage> KafkaBroker::read_all(const std::string& topic) const {
  // -e: exit at the end of every partition; -q: no informational lines on stderr (run_command
  // merges it into the output); -J: one JSON object per message.
  const CommandResult r = run_command({"/usr/bin/kcat", "-C", "-q", "-e", "-J", "-b", bootstrap(), "-t", topic});
  if (r.exit_code != 0) {
    throw std::runtime_error("kcat -C -t " + topic + " exited with " + std::to_string(r.exit_code) + ": " + r.output);
  }
  std::vector<KafkaMessage> out;
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    rapidjson::Document d;
    d.Parse(line.c_str(), line.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("offset")) {
      throw std::runtime_error("unexpected kcat output line: " + line);
    }
    KafkaMessage m;
    m.partition = d["partition"].GetInt();
    m.offset = d["offset"].GetInt64();
    m.key = string_or_null(d["key"]);
    m.value = string_or_null(d["payload"]);
    out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(), [](const KafkaMessage& a, const KafkaMessage& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  return out;
}

}  // namespace pg2ch::test
