#pragma once
// Which source position may be acknowledged, given what is still buffered.
//
// Transactions arrive one at a time in commit order and get increasing sequence numbers. Each
// table batch remembers the oldest sequence among its buffered rows. The commit position of
// transaction s is durable once no batch holds rows of any transaction <= s. Transactions that
// touched nothing we buffer become durable as soon as everything before them is.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>

namespace pg2ch::pipeline {

class AckTracker {
 public:
  static constexpr std::uint64_t kNothingPending = std::numeric_limits<std::uint64_t>::max();

  std::uint64_t begin() { return ++current_seq_; }
  std::uint64_t current_seq() const { return current_seq_; }
  void commit(std::uint64_t position) { committed_.push_back({current_seq_, position}); }
  // An idle source position: behaves like an empty transaction committed now.
  void idle(std::uint64_t position) { committed_.push_back({++current_seq_, position}); }

  // Call after flushing with the oldest sequence still buffered anywhere (kNothingPending if
  // none). Returns the new durable position when it moved.
  std::optional<std::uint64_t> advance(std::uint64_t oldest_pending_seq) {
    std::optional<std::uint64_t> moved;
    while (!committed_.empty() && committed_.front().seq < oldest_pending_seq) {
      durable_ = std::max(durable_.value_or(0), committed_.front().position);
      moved = durable_;
      committed_.pop_front();
    }
    return moved;
  }

  std::optional<std::uint64_t> durable() const { return durable_; }

 private:
  struct Committed {
    std::uint64_t seq;
    std::uint64_t position;
  };
  std::uint64_t current_seq_ = 0;
  std::deque<Committed> committed_;
  std::optional<std::uint64_t> durable_;  // never moves backwards
};

}  // namespace pg2ch::pipeline
