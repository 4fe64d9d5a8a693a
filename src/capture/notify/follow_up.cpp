#include "capture/notify/follow_up.h"

#include <algorithm>
#include <charconv>

namespace pg2ch::capture::notify {

Payload parse_payload(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon != std::string_view::npos && colon + 1 < text.size()) {
    const std::string_view digits = text.substr(colon + 1);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc() && end == digits.data() + digits.size() && value >= 0) {
      return Payload{std::string(text.substr(0, colon)), value};
    }
  }
  return Payload{std::string(text), std::nullopt};
}

std::int64_t bucket_us(std::int64_t coalesce_ms) { return std::max<std::int64_t>(coalesce_ms, 1) * 1000; }

void FollowUp::notified(std::int64_t ends_us) {
  // Covered already: the transactions of an earlier bucket had their xid before a later bucket's
  // end too, so a follow-up of a later bucket (done, or under way) waits for them as well.
  if (ends_us <= done_through_ || (target_ && ends_us <= *target_)) return;
  target_ = ends_us;
  step_ = Step::BucketEnd;
  waiting_.clear();
}

void FollowUp::probed(std::int64_t at_us, const std::vector<std::uint32_t>& running) {
  if (!target_) return;
  if (step_ == Step::BucketEnd) {
    if (at_us < *target_) return;  // a skipped transaction may not have its xid yet
    waiting_ = running;
  } else {
    // Not listed any more: ended before this probe, so the poll after it reads their rows.
    std::erase_if(waiting_, [&](std::uint32_t xid) {
      return std::find(running.begin(), running.end(), xid) == running.end();
    });
  }
  step_ = waiting_.empty() ? Step::LastPoll : Step::Transactions;
}

void FollowUp::polled() {
  if (!target_ || step_ != Step::LastPoll) return;
  done_through_ = *target_;
  target_.reset();
  step_ = Step::BucketEnd;
}

}  // namespace pg2ch::capture::notify
