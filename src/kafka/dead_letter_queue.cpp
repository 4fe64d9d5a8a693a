#include "kafka/dead_letter_queue.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.h"

namespace pg2ch::kafka {
namespace {

std::optional<std::string_view> bytes_of(const void* p, std::size_t n) {
  if (p == nullptr) return std::nullopt;
  return std::string_view(static_cast<const char*>(p), n);
}

}  // namespace

DeadLetterQueue::DeadLetterQueue(const config::KafkaConfig& cfg, const std::string& client_id)
    : topic_(cfg.dead_letter_topic) {
  DeliveryHandler& reports = *this;
  producer_ = std::make_unique<Producer>(cfg, client_id, reports);
}

DeadLetterQueue::~DeadLetterQueue() = default;

void DeadLetterQueue::send(const RdKafka::Message& original, std::string_view reason) {
  const Producer::Headers headers{{"pg2ch.error", std::string(reason)},
                                  {"pg2ch.source.topic", original.topic_name()},
                                  {"pg2ch.source.partition", std::to_string(original.partition())},
                                  {"pg2ch.source.offset", std::to_string(original.offset())}};
  const auto* key = original.key_pointer();
  producer_->produce(topic_, -1, bytes_of(key, original.key_len()), bytes_of(original.payload(), original.len()),
                     ++sent_, headers);
  spdlog::warn("kafka: {}[{}] offset {} moved to dead-letter topic {}: {}", original.topic_name(),
               original.partition(), original.offset(), topic_, reason);
}

void DeadLetterQueue::wait_delivered() {
  while (delivered_ < sent_ && failure_.empty()) producer_->poll(std::chrono::milliseconds(100));
  if (!failure_.empty()) {
    throw Error(ErrorKind::Server, fmt::format("writing to dead-letter topic {}: {}", topic_, failure_),
                "check the dead-letter topic exists and pg2ch may write to it");
  }
}

void DeadLetterQueue::on_delivery(const DeliveryReport& report) noexcept {
  ++delivered_;
  if (!report.ok && failure_.empty()) failure_ = std::string(report.error);
}

}  // namespace pg2ch::kafka
