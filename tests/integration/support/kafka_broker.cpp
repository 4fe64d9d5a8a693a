#include "support/kafka_broker.h"

#include <rapidjson/document.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
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
    if (d.HasMember("headers") && d["headers"].IsArray()) {  // kcat: [name, value, name, value, ...]
      const auto& h = d["headers"];
      for (rapidjson::SizeType i = 0; i + 1 < h.Size(); i += 2) {
        m.headers.emplace_back(h[i].GetString(), h[i + 1].IsString() ? h[i + 1].GetString() : "");
      }
    }
    out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(), [](const KafkaMessage& a, const KafkaMessage& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  return out;
}

void KafkaBroker::produce(const std::string& topic, int partition, const std::string& key,
                          const std::string& value) const {
  // kcat -P sends each file argument as one message, byte for byte.
  const auto file = std::filesystem::temp_directory_path() /
                    ("pg2ch-kcat-" + std::to_string(::getpid()) + "-" + std::to_string(++produced_) + ".msg");
  std::ofstream(file, std::ios::binary) << value;
  const CommandResult r = run_command({"/usr/bin/kcat", "-P", "-q", "-b", bootstrap(), "-t", topic, "-p",
                                       std::to_string(partition), "-k", key, file.string()});
  std::filesystem::remove(file);
  if (r.exit_code != 0) {
    throw std::runtime_error("kcat -P -t " + topic + " exited with " + std::to_string(r.exit_code) + ": " + r.output);
  }
}

std::pair<std::int64_t, std::int64_t> KafkaBroker::watermarks(const std::string& topic, int partition) const {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  if (conf->set("bootstrap.servers", bootstrap(), err) != RdKafka::Conf::CONF_OK ||
      conf->set("group.id", "pg2ch-test-watermarks", err) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("watermarks: " + err);
  }
  // Never subscribes, so it never joins the group: it only asks the partition's leader.
  std::unique_ptr<RdKafka::KafkaConsumer> probe(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!probe) throw std::runtime_error("watermarks: " + err);
  std::int64_t low = 0, high = 0;
  const auto rc = probe->query_watermark_offsets(topic, partition, &low, &high, 10000);
  probe->close();
  if (rc != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("watermarks of " + topic + "[" + std::to_string(partition) + "]: " + RdKafka::err2str(rc));
  }
  return {low, high};
}

}  // namespace pg2ch::test
