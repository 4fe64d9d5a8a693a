#pragma once
// An idempotent Kafka producer whose delivery reports are handed to the owner.
//
// produce() queues a message (copying key and value) and never blocks on the network; when
// librdkafka's local queue is full it serves delivery reports until there is room (this is the
// back-pressure that slows the capture while the broker is slow or away). Reports arrive only
// inside poll() / flush(), on the calling thread, through the DeliveryHandler.
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/config.h"

namespace pg2ch::kafka {

struct DeliveryReport {
  std::uint64_t tag = 0;      // what produce() was given
  std::string_view topic;
  std::size_t bytes = 0;      // key + value
  bool ok = true;
  std::string_view error;     // librdkafka's reason when !ok
  int error_code = 0;         // RdKafka::ErrorCode when !ok
};

class DeliveryHandler {
 public:
  virtual ~DeliveryHandler() = default;
  virtual void on_delivery(const DeliveryReport& report) noexcept = 0;
};

class Producer : private RdKafka::DeliveryReportCb {
 public:
  // Throws Error(Config) naming the setting when the client configuration is refused.
  Producer(const config::KafkaConfig& cfg, const std::string& client_id, DeliveryHandler& handler);
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  // Waits briefly for in-flight messages; whatever is still queued is dropped (the owner has not
  // acknowledged it, so the source re-sends it after a restart).
  ~Producer() override;

  // `partition` < 0: chosen from the key (murmur2). A null key is std::nullopt, a tombstone
  // (null value) is std::nullopt too. `tag` comes back in the message's delivery report.
  using Headers = std::vector<std::pair<std::string, std::string>>;
  void produce(const std::string& topic, int partition, std::optional<std::string_view> key,
               std::optional<std::string_view> value, std::uint64_t tag, const Headers& headers = {});
  // Serves delivery reports; waits up to `timeout` for the first one.
  void poll(std::chrono::milliseconds timeout);
  // Waits until every queued message has a delivery report or `timeout` passes; returns whether
  // all did.
  bool flush(std::chrono::milliseconds timeout);
  // Messages queued or in flight inside librdkafka.
  int outstanding() const;
  // The number of partitions of `topic` from cluster metadata (cached). Throws Error(Connection,
  // retriable) when the cluster does not answer within `timeout`.
  int partition_count(const std::string& topic, std::chrono::milliseconds timeout);
  // Whether any partition of `topic` ever took a message (its high watermark above 0); false
  // for a topic that does not exist. Throws Error(Connection, retriable) when the cluster does
  // not answer within `timeout`.
  bool ever_held_messages(const std::string& topic, std::chrono::milliseconds timeout);

 private:
  void dr_cb(RdKafka::Message& message) override;

  DeliveryHandler& handler_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::unordered_map<std::string, int> partitions_;
};

}  // namespace pg2ch::kafka
