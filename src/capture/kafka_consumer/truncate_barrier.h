#pragma once
// A TRUNCATE reaches the consumer once per partition: the producer sends it to every partition
// of the table's topic, after that partition's earlier changes. Emptying the ClickHouse table at
// the first copy would let another partition's older, not yet read rows reappear after it, and
// emptying it again at the next copy would delete rows written since. So the consumer pauses each
// partition at its copy and truncates once, when every partition of the topic has arrived; then
// all of them resume just after their copy.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace pg2ch::capture::kafka_consumer {

class TruncateBarrier {
 public:
  struct Arrival {
    int partition;
    std::int64_t offset;  // of the truncate message
  };

  // Partition `partition` of `topic` reached a truncate of `table`. Returns true when all
  // `partition_count` partitions have.
  bool arrive(const std::string& topic, const std::string& table, int partition, std::int64_t offset,
              int partition_count) {
    auto& waiting = waiting_[{topic, table}];
    waiting.push_back({partition, offset});
    return static_cast<int>(waiting.size()) >= partition_count;
  }
  // The arrivals of a completed barrier (removed).
  std::vector<Arrival> release(const std::string& topic, const std::string& table) {
    auto node = waiting_.extract({topic, table});
    return node.empty() ? std::vector<Arrival>{} : std::move(node.mapped());
  }
  bool is_paused(const std::string& topic, int partition) const {
    for (const auto& [key, arrivals] : waiting_) {
      if (key.first != topic) continue;
      for (const auto& a : arrivals) {
        if (a.partition == partition) return true;
      }
    }
    return false;
  }
  bool empty() const { return waiting_.empty(); }
  void clear() { waiting_.clear(); }

 private:
  std::map<std::pair<std::string, std::string>, std::vector<Arrival>> waiting_;
};

}  // namespace pg2ch::capture::kafka_consumer
