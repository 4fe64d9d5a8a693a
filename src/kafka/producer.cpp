#include "kafka/producer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "kafka/client_config.h"
#include "kafka/topic_metadata.h"

namespace pg2ch::kafka {

Producer::Producer(const config::KafkaConfig& cfg, const std::string& client_id, DeliveryHandler& handler)
    : handler_(handler) {
  ConfPtr conf = make_producer_conf(cfg, client_id);
  std::string err;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), err) != RdKafka::Conf::CONF_OK) {
    throw Error(ErrorKind::Internal, "setting the Kafka delivery report callback: " + err);
  }
  producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!producer_) {
    throw Error(ErrorKind::Config, fmt::format("cannot create the Kafka producer for {}: {}", cfg.brokers, err),
                "check the [kafka] settings");
  }
}

Producer::~Producer() {
  if (producer_->outq_len() > 0) producer_->flush(2000);
  if (const int left = producer_->outq_len(); left > 0) {
    spdlog::warn("Kafka producer closed with {} message(s) not delivered; they were not acknowledged to the source "
                 "and will be sent again",
                 left);
  }
}

void Producer::dr_cb(RdKafka::Message& msg) {
  DeliveryReport r;
  r.tag = reinterpret_cast<std::uintptr_t>(msg.msg_opaque());
  const std::string topic = msg.topic_name();
  r.topic = topic;
  r.bytes = msg.len() + msg.key_len();
  r.ok = msg.err() == RdKafka::ERR_NO_ERROR;
  const std::string reason = r.ok ? std::string() : msg.errstr();
  r.error = reason;
  r.error_code = static_cast<int>(msg.err());
  handler_.on_delivery(r);
}

namespace {

// Ownership passes to librdkafka only when produce() succeeds.
std::unique_ptr<RdKafka::Headers> make_headers(const Producer::Headers& headers) {
  if (headers.empty()) return nullptr;
  std::unique_ptr<RdKafka::Headers> h(RdKafka::Headers::create());
  for (const auto& [name, value] : headers) h->add(name, value);
  return h;
}

}  // namespace

void Producer::produce(const std::string& topic, int partition, std::optional<std::string_view> key,
                       std::optional<std::string_view> value, std::uint64_t tag, const Headers& headers) {
  static_assert(sizeof(std::uintptr_t) >= sizeof(std::uint64_t), "tags travel as the message's opaque pointer");
  void* payload = value ? const_cast<char*>(value->data()) : nullptr;
  const std::size_t payload_len = value ? value->size() : 0;
  const void* key_ptr = key ? key->data() : nullptr;
  const std::size_t key_len = key ? key->size() : 0;
  void* opaque = reinterpret_cast<void*>(static_cast<std::uintptr_t>(tag));
  const std::int32_t part = partition < 0 ? RdKafka::Topic::PARTITION_UA : partition;
  for (;;) {
    std::unique_ptr<RdKafka::Headers> hdrs = make_headers(headers);
    const RdKafka::ErrorCode err = producer_->produce(topic, part, RdKafka::Producer::RK_MSG_COPY, payload, payload_len,
                                                      key_ptr, key_len, 0, hdrs.get(), opaque);
    if (err == RdKafka::ERR_NO_ERROR) {
      (void)hdrs.release();
      return;
    }
    if (err == RdKafka::ERR__QUEUE_FULL) {
      // Back-pressure: the broker is slower than the source (or away). Serve reports until
      // librdkafka has room again.
      producer_->poll(100);
      continue;
    }
    throw Error(ErrorKind::Server, fmt::format("producing to Kafka topic {}: {}", topic, RdKafka::err2str(err)),
                err == RdKafka::ERR__FATAL ? "the idempotent producer hit a fatal error; restart pg2ch"
                                           : "check the topic name and the broker");
  }
}

void Producer::poll(std::chrono::milliseconds timeout) { producer_->poll(static_cast<int>(timeout.count())); }

bool Producer::flush(std::chrono::milliseconds timeout) {
  return producer_->flush(static_cast<int>(timeout.count())) == RdKafka::ERR_NO_ERROR;
}

int Producer::outstanding() const { return producer_->outq_len(); }

int Producer::partition_count(const std::string& topic, std::chrono::milliseconds timeout) {
  if (auto it = partitions_.find(topic); it != partitions_.end()) return it->second;
  const TopicPartitions found = topic_partitions(*producer_, topic, timeout);
  if (found.count <= 0) {
    throw Error(ErrorKind::Connection,
                fmt::format("Kafka topic {} has no partitions yet ({})", topic, RdKafka::err2str(found.error)),
                "create the topic, or enable auto.create.topics.enable on the brokers", true);
  }
  partitions_[topic] = found.count;
  return found.count;
}

bool Producer::ever_held_messages(const std::string& topic, std::chrono::milliseconds timeout) {
  const TopicPartitions found = topic_partitions(*producer_, topic, timeout);
  for (int p = 0; p < found.count; ++p) {
    std::int64_t low = 0, high = 0;
    const RdKafka::ErrorCode rc =
        producer_->query_watermark_offsets(topic, p, &low, &high, static_cast<int>(timeout.count()));
    if (rc != RdKafka::ERR_NO_ERROR) {
      throw Error(ErrorKind::Connection,
                  fmt::format("reading the offsets of Kafka topic {} partition {}: {}", topic, p, RdKafka::err2str(rc)),
                  "check that Kafka is reachable", true);
    }
    if (high > 0) return true;
  }
  return false;
}

}  // namespace pg2ch::kafka
