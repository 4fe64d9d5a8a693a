#pragma once
// Messages the consumer cannot use go to kafka.dead_letter_topic, unchanged (same key and value),
// with why and where from in headers:
//   pg2ch.error            the reason, one line (what was wrong, which table and column)
//   pg2ch.source.topic     original topic, partition and offset
//   pg2ch.source.partition
//   pg2ch.source.offset
// The consumer commits past a dead-lettered message only after wait_delivered() confirmed that
// the dead-letter topic has it: a bad message is moved, never dropped.
#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "kafka/producer.h"

namespace pg2ch::kafka {

class DeadLetterQueue final : private DeliveryHandler {
 public:
  DeadLetterQueue(const config::KafkaConfig& cfg, const std::string& client_id);
  ~DeadLetterQueue() override;

  void send(const RdKafka::Message& original, std::string_view reason);
  // Blocks until every message sent has been delivered. Throws Error when one was not.
  void wait_delivered();
  std::uint64_t sent() const { return sent_; }
  const std::string& topic() const { return topic_; }

 private:
  void on_delivery(const DeliveryReport& report) noexcept override;

  std::string topic_;
  std::uint64_t sent_ = 0;
  std::uint64_t delivered_ = 0;
  std::string failure_;
  std::unique_ptr<Producer> producer_;
};

}  // namespace pg2ch::kafka
