#include "capture/poll/window_queue.h"

#include <algorithm>

#include "common/error.h"

namespace pg2ch::capture::poll {

void WindowQueue::close_front(std::uint64_t position) {
  if (pending_.empty()) throw Error(ErrorKind::Internal, "close_front() without a pending window");
  Window w = std::move(pending_.front());
  pending_.pop_front();
  w.position = std::max(w.position, position);
  closed_.push_back(std::move(w));
}

std::optional<Cursor> WindowQueue::take_checkpoint(std::optional<std::uint64_t> durable) {
  if (!durable) return std::nullopt;
  std::optional<Cursor> out;
  while (!closed_.empty() && closed_.front().position <= *durable) {
    out = std::move(closed_.front().hi);
    closed_.pop_front();
  }
  return out;
}

}  // namespace pg2ch::capture::poll
