#pragma once
// Which transactions still have messages in flight.
//
// Every produced message is tagged with the sequence number of the source transaction it came
// from (pipeline::AckTracker's numbering). A successful delivery report removes it; the oldest
// sequence with anything outstanding is what AckTracker::advance() needs. A failed delivery is
// never removed, so nothing at or after its transaction can become durable.
#include <cstdint>
#include <map>

#include "pipeline/ack_tracker.h"

namespace pg2ch::kafka {

class DeliveryTracker {
 public:
  void sent(std::uint64_t seq) { ++outstanding_[seq]; ++in_flight_; }
  void delivered(std::uint64_t seq) {
    auto it = outstanding_.find(seq);
    if (it == outstanding_.end()) return;  // cannot happen: every report follows a sent()
    --in_flight_;
    if (--it->second == 0) outstanding_.erase(it);
  }
  std::uint64_t oldest_pending() const {
    return outstanding_.empty() ? pipeline::AckTracker::kNothingPending : outstanding_.begin()->first;
  }
  // Messages sent and not (successfully) delivered yet, failed ones included.
  std::uint64_t in_flight() const { return in_flight_; }

 private:
  std::map<std::uint64_t, std::uint64_t> outstanding_;  // seq -> messages not yet delivered
  std::uint64_t in_flight_ = 0;
};

}  // namespace pg2ch::kafka
