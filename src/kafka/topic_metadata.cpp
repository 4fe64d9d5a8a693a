#include "kafka/topic_metadata.h"

#include <fmt/format.h>

#include <memory>

#include "common/error.h"

namespace pg2ch::kafka {

TopicPartitions topic_partitions(RdKafka::Handle& client, const std::string& topic, std::chrono::milliseconds timeout) {
  std::string err;
  std::unique_ptr<RdKafka::Topic> rkt(RdKafka::Topic::create(&client, topic, nullptr, err));
  if (!rkt) throw Error(ErrorKind::Config, fmt::format("Kafka topic {}: {}", topic, err));
  RdKafka::Metadata* raw = nullptr;
  const RdKafka::ErrorCode rc = client.metadata(false, rkt.get(), &raw, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> md(raw);
  if (rc != RdKafka::ERR_NO_ERROR) {
    throw Error(ErrorKind::Connection, fmt::format("reading metadata of Kafka topic {}: {}", topic, RdKafka::err2str(rc)),
                "check that the brokers are reachable", true);
  }
  TopicPartitions out;
  for (const RdKafka::TopicMetadata* t : *md->topics()) {
    if (t->topic() != topic) continue;
    out.count = static_cast<int>(t->partitions()->size());
    out.error = t->err();
  }
  return out;
}

}  // namespace pg2ch::kafka
