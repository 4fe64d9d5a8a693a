#pragma once
// ChangeSink that publishes every change as a Kafka message (sink = "kafka").
//
// One message per row change, keyed by the row's primary key so that all changes of a key go to
// one partition in order; topic per table (<kafka.topic_prefix>.<schema>.<table>) or kafka.topic
// for all. Formats: see envelope.h. Per change:
//   insert            op c (r for snapshot rows, version == kSnapshotVersion)
//   update            op u; an update that changes the key is, as in Debezium, op d for the old
//                     key + tombstone, then op c for the new key (each key's partition sees it)
//   delete            op d + a tombstone (null value, debezium format only) for log compaction
//   truncate          op t, one message to *every* partition of the table's topic, so each
//                     partition's consumer sees it after all earlier changes of that partition
//
// Durability: librdkafka batches and sends on its own threads; the delivery report of each
// message arrives on the capture's thread in poll()/flush(). A message is tagged with its source
// transaction's sequence (DeliveryTracker), so durable_position() is the highest commit position
// whose messages — and every earlier transaction's — have all been acknowledged by the brokers
// (acks=all, idempotent producer). A failed delivery (librdkafka gave up after its retries, i.e.
// message.timeout.ms) stops the pipeline at the next call with the topic and reason; its
// transaction never becomes durable, so the source re-sends it after a restart.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "config/config.h"
#include "kafka/delivery_tracker.h"
#include "kafka/envelope.h"
#include "kafka/producer.h"
#include "pipeline/ack_tracker.h"
#include "pipeline/change_sink.h"
#include "pipeline/pipeline_observer.h"

namespace pg2ch::kafka {

// The error kind of a failed delivery report (service/exit_codes.h decides what it means).
ErrorKind delivery_failure_kind(int rdkafka_error_code);

class KafkaChangeSink final : public pipeline::ChangeSink, private DeliveryHandler {
 public:
  // `ctx` fills the envelope's source block (pipeline name, source database).
  KafkaChangeSink(const config::KafkaConfig& cfg, EnvelopeContext ctx);
  ~KafkaChangeSink() override;

  void begin_transaction() override;
  void transaction_context(const pipeline::TransactionContext& tx) override { tx_ = tx; }
  void insert(const pipeline::TableSchema& table, std::span<const pipeline::ValueRef> row,
              std::uint64_t version) override;
  void update(const pipeline::TableSchema& table, std::span<const pipeline::ValueRef> old_row,
              std::span<const pipeline::ValueRef> new_row, std::uint64_t version) override;
  void remove(const pipeline::TableSchema& table, std::span<const pipeline::ValueRef> old_row,
              std::uint64_t version) override;
  void truncate(const pipeline::TableSchema& table) override;
  // Unless the table's topic never held a message (or does not exist yet): a TRUNCATE then would
  // only stop a group whose members share its partitions (kafka_consumer/topic_consumer.cpp).
  // A topic this sink sent to is not asked about again, so a copy while the brokers are away
  // waits for them like any change (an unanswered question is an Error(Connection, retriable)).
  bool consumers_may_hold(const pipeline::TableSchema& table) override;
  void commit_transaction(pipeline::Position position) override;
  void source_idle(pipeline::Position position) override;
  std::optional<std::chrono::milliseconds> poll() override;
  // Waits for the delivery reports of everything produced (bounded by flush_timeout: with the
  // brokers away, stopping must not hang; what was not delivered is simply not acknowledged).
  void flush() override;
  std::optional<pipeline::Position> durable_position() const override { return acks_.durable(); }
  pipeline::SinkStats stats() const override { return stats_; }

  // Messages produced and not yet confirmed by the brokers.
  std::uint64_t in_flight() const { return deliveries_.in_flight(); }
  void set_flush_timeout(std::chrono::milliseconds t) { flush_timeout_ = t; }
  // Told how many messages the brokers confirmed, once per poll; may be null.
  void set_observer(pipeline::PipelineObserver* observer) { observer_ = observer; }

 private:
  struct TableTopic {
    std::string topic;
    std::string identifier;  // for the key, when the topic is shared; empty otherwise
  };
  struct Failure {
    std::string topic;
    std::string reason;
    int code = 0;  // RdKafka::ErrorCode
  };

  void on_delivery(const DeliveryReport& report) noexcept override;
  const TableTopic& topic_for(const pipeline::TableSchema& table);
  void send_change(const pipeline::TableSchema& table, char op, std::span<const pipeline::ValueRef> before,
                   std::span<const pipeline::ValueRef> after, std::uint64_t version);
  void send(const std::string& topic, int partition, std::optional<std::string_view> key,
            std::optional<std::string_view> value);
  void throw_if_failed() const;
  EventTimes event_times() const;
  void advance_acks();

  config::KafkaConfig cfg_;
  EnvelopeContext ctx_;
  pipeline::TransactionContext tx_;  // of the transaction being sent
  bool debezium_;
  std::chrono::milliseconds flush_timeout_{30000};
  std::unordered_map<const pipeline::TableSchema*, TableTopic> topics_;
  pipeline::AckTracker acks_;
  DeliveryTracker deliveries_;
  std::optional<Failure> failure_;
  std::uint64_t delivered_since_poll_ = 0;
  std::uint64_t delivered_bytes_since_poll_ = 0;
  pipeline::SinkStats stats_;
  pipeline::PipelineObserver* observer_ = nullptr;
  std::unordered_set<std::string> sent_to_;  // topics this sink produced to
  std::unique_ptr<Producer> producer_;  // last: destroyed first, its final reports still land here
};

}  // namespace pg2ch::kafka
