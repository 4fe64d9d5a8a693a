#pragma once
// A Kafka broker for integration tests: librdkafka's in-process mock cluster (kafka/mock_cluster.h)
// on a free loopback port, plus reading topics back with kcat, a real Kafka client.
//
//   KafkaBroker broker;                        // one broker, gone at the end of the test
//   broker.create_topic("pg2ch.public.t", 3);
//   cfg.kafka.brokers = broker.bootstrap();
//   auto messages = broker.read_all("pg2ch.public.t");
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kafka/mock_cluster.h"

namespace pg2ch::test {

struct KafkaMessage {
  int partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;    // nullopt: null key
  std::optional<std::string> value;  // nullopt: tombstone
  std::vector<std::pair<std::string, std::string>> headers;
};

class KafkaBroker {
 public:
  KafkaBroker() : cluster_(1) {}

  const std::string& bootstrap() const { return cluster_.bootstrap(); }
  void create_topic(const std::string& topic, int partitions) { cluster_.create_topic(topic, partitions); }
  // The broker refuses connections until up() (messages wait in the producer).
  void down() { cluster_.set_down(1); }
  void up() { cluster_.set_up(1); }

  // Every message of `topic`, by partition then offset, read with `kcat -C -e -J`. Throws
  // std::runtime_error with kcat's output when it fails.
  std::vector<KafkaMessage> read_all(const std::string& topic) const;
  // Writes one message with kcat (a client other than pg2ch's own producer), e.g. a malformed one.
  void produce(const std::string& topic, int partition, const std::string& key, const std::string& value) const;
  // (low, high) of a partition: the first offset the broker still keeps and the next offset it
  // will give. The mock broker keeps only the newest few MB of each partition, like retention.
  std::pair<std::int64_t, std::int64_t> watermarks(const std::string& topic, int partition) const;

 private:
  kafka::MockCluster cluster_;
  mutable int produced_ = 0;
};

}  // namespace pg2ch::test
