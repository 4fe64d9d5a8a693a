#pragma once
// The two configs of the Kafka route for a test: a producer (mode logical, sink kafka, Debezium
// format) and a consumer (mode kafka) of its topics with a state file of its own, over one broker.
#include <chrono>
#include <string>
#include <vector>

#include "support/kafka_broker.h"
#include "support/test_config.h"
#include "support/test_database.h"

namespace pg2ch::test {

struct KafkaRoute {
  config::Config producer;
  config::Config consumer;
};

// Creates a topic of `partitions` per table ("pg2ch.<schema>.<table>").
inline KafkaRoute kafka_route(const TestDatabase& db, KafkaBroker& broker, const std::vector<std::string>& tables,
                              int partitions) {
  KafkaRoute r{make_test_config(db, tables), make_test_config(db, tables)};
  r.producer.sink = "kafka";
  r.producer.kafka.brokers = broker.bootstrap();
  r.producer.kafka.format = "debezium";
  for (const auto& t : tables) broker.create_topic("pg2ch." + t, partitions);
  r.consumer.mode = "kafka";
  r.consumer.kafka.brokers = broker.bootstrap();
  r.consumer.kafka.group_id = db.name();
  // The mock broker holds a rebalance until a departed member expires.
  r.consumer.kafka.session_timeout = std::chrono::seconds(6);
  r.consumer.state.path = (db.dir() / "consumer.state").string();
  return r;
}

}  // namespace pg2ch::test
