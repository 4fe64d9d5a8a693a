#pragma once
// A Kafka group consumer with manual offset commits (librdkafka C++ API), RAII.
//
// Offsets are never committed by librdkafka on its own (enable.auto.commit=false,
// enable.auto.offset.store=false): the owner commits a partition's offset only after what came
// before it is durable in ClickHouse. Rebalances are reported to a RebalanceHandler on the
// consuming thread, inside consume(), *before* partitions are given up, so the owner can flush
// and commit first; on assignment it may choose start offsets (replay).
//
// Errors are exceptions (pg2ch::Error) with the topic and partition: this is a boundary layer.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace pg2ch::kafka {

struct PartitionOffset {
  std::string topic;
  int partition = 0;
  // The next offset to read. Special values: kBeginning, kEnd, kStored (the group's committed
  // offset; an error when there is none, see Consumer's constructor).
  std::int64_t offset = kStored;

  static constexpr std::int64_t kBeginning = RD_KAFKA_OFFSET_BEGINNING;
  static constexpr std::int64_t kEnd = RD_KAFKA_OFFSET_END;
  static constexpr std::int64_t kStored = RD_KAFKA_OFFSET_STORED;
};

class RebalanceHandler {
 public:
  virtual ~RebalanceHandler() = default;
  // Partitions are about to be consumed; the handler may set each one's start offset.
  virtual void on_assign(std::vector<PartitionOffset>& partitions) = 0;
  // Partitions are about to go to another member: finish and commit what was read from them.
  virtual void on_revoke(const std::vector<PartitionOffset>& partitions) = 0;
};

class Consumer : private RdKafka::RebalanceCb {
 public:
  // group.id = cfg.group_id; librdkafka's auto.offset.reset is "error": the owner applies
  // cfg.auto_offset_reset to partitions without a committed offset (explicit start offsets in
  // on_assign). Throws Error(Config).
  Consumer(const config::KafkaConfig& cfg, const std::string& client_id, RebalanceHandler& handler);
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  // Leaves the group (after a final revoke callback, so the owner can commit).
  ~Consumer() override;

  void subscribe(const std::vector<std::string>& topics);
  // The next message, or nullptr when none came within `timeout`. Consumer-level errors that
  // librdkafka recovers from itself (broker down, topic not yet created) are logged, not thrown.
  // A position out of range (retention deleted messages not yet read) throws offset_gap_error.
  std::unique_ptr<RdKafka::Message> consume(std::chrono::milliseconds timeout);
  // Commits synchronously; `offsets` are next-to-read offsets. Throws Error on failure.
  void commit(const std::vector<PartitionOffset>& offsets);
  // Stops fetching a partition; resume() restarts it at `offset`.
  void pause(const std::string& topic, int partition);
  void resume(const std::string& topic, int partition, std::int64_t offset);

  // Cluster facts, each bounded by `timeout`; Error(Connection, retriable) when unanswered.
  // 0 partitions when the topic does not exist (yet).
  int partition_count(const std::string& topic, std::chrono::milliseconds timeout);
  // (low, high): the first offset still kept and the offset the next message will get.
  std::pair<std::int64_t, std::int64_t> watermarks(const std::string& topic, int partition,
                                                   std::chrono::milliseconds timeout);
  // The high watermark librdkafka learnt from its last fetch of the partition (no request);
  // nullopt before the first fetch.
  std::optional<std::int64_t> cached_high_watermark(const std::string& topic, int partition);
  // The earliest offset whose message timestamp is >= `ms` (high watermark when none is).
  std::int64_t offset_for_time(const std::string& topic, int partition, std::int64_t ms,
                               std::chrono::milliseconds timeout);
  // The group's committed next offsets (nullopt for a partition without one).
  std::vector<std::optional<std::int64_t>> committed(const std::vector<PartitionOffset>& partitions,
                                                     std::chrono::milliseconds timeout);

  // Leaves the group now (idempotent): revoke callback first, then the group is told.
  void close();

 private:
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;

  // Stops at a fetch position the broker no longer has (its offset is in `msg`).
  [[noreturn]] void throw_out_of_range(const RdKafka::Message& msg);

  RebalanceHandler& handler_;
  std::string group_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  bool closed_ = false;
};

}  // namespace pg2ch::kafka
