#pragma once
// Which Kafka offsets may be committed.
//
// The consumer applies messages to the sink in segments; segment s ends with
// commit_transaction(s), and records here the next offset of every partition it read from.
// Once the sink reports s durable, those offsets (and every earlier segment's) become
// committable; they stay committable until a commit succeeds, so a failed commit (brokers away)
// is simply retried later and nothing is committed ahead of ClickHouse.
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kafka/consumer.h"

namespace pg2ch::capture::kafka_consumer {

class OffsetLedger {
 public:
  using TopicPartition = std::pair<std::string, int>;

  void record(std::uint64_t segment, std::map<TopicPartition, std::int64_t> next_offsets) {
    if (!next_offsets.empty()) pending_.push_back({segment, std::move(next_offsets)});
  }
  // Moves every segment <= durable_segment to the committable set.
  void durable_up_to(std::uint64_t durable_segment) {
    while (!pending_.empty() && pending_.front().segment <= durable_segment) {
      for (auto& [tp, off] : pending_.front().offsets) committable_[tp] = off;
      pending_.pop_front();
    }
  }
  std::vector<kafka::PartitionOffset> committable() const {
    std::vector<kafka::PartitionOffset> out;
    for (const auto& [tp, off] : committable_) out.push_back({tp.first, tp.second, off});
    return out;
  }
  void committed(const std::vector<kafka::PartitionOffset>& offsets) {
    for (const auto& o : offsets) {
      auto it = committable_.find({o.topic, o.partition});
      if (it != committable_.end() && it->second == o.offset) committable_.erase(it);
    }
  }
  bool settled() const { return pending_.empty() && committable_.empty(); }
  // Partitions given to another consumer: what was not committed is theirs to re-read.
  void forget(const TopicPartition& tp) {
    committable_.erase(tp);
    for (auto& seg : pending_) seg.offsets.erase(tp);
  }

 private:
  struct Segment {
    std::uint64_t segment;
    std::map<TopicPartition, std::int64_t> offsets;
  };
  std::deque<Segment> pending_;
  std::map<TopicPartition, std::int64_t> committable_;
};

}  // namespace pg2ch::capture::kafka_consumer
