#pragma once
// One table's visibility-horizon windows: the bookkeeping between "a page was read" and "its
// range may be checkpointed". Pure: no server, no clock (unit-tested).
//
// Life of a window (see README.md for why):
//
//   read page (lo, hi] in snapshot S  --push-->  PENDING
//   PENDING   --every xid of S ended (and, when visible, no older transaction runs)-->
//             rescan (lo, hi] for rows invisible in S, deliver them  --close_front-->  CLOSED(position)
//   CLOSED    --sink durable_position() >= position-->  checkpoint = hi  (window dropped)
//
// Windows close strictly in read order (a later window's checkpoint would skip an earlier
// window's late rows), and only the front window is ever examined.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "capture/poll/cursor.h"

namespace pg2ch::capture::poll {

struct Window {
  std::optional<Cursor> lo;     // the cursor before the page (nullopt: from the first row)
  Cursor hi;                    // the page's last row
  std::string snapshot;         // pg_current_snapshot() the page was read in (text form)
  std::int64_t read_time_us = 0;  // clock_timestamp() at the page's start, µs since 1970
  std::string running_xids;       // text[] of the xids held by backends at the read
  std::uint64_t position = 0;   // sink position of the page's rows (then of its rescan)
};

class WindowQueue {
 public:
  void push(Window w) { pending_.push_back(std::move(w)); }

  bool has_pending() const { return !pending_.empty(); }
  std::size_t pending_count() const { return pending_.size(); }
  // The window to check next; only valid when has_pending().
  const Window& front() const { return pending_.front(); }

  // The front window's range has been rescanned; its rows (fresh and late) become durable with
  // sink position `position` (the later of the page's and the rescan's).
  void close_front(std::uint64_t position);

  // The newest closed window whose rows are all durable at `durable` (the sink's
  // durable_position()): its hi is the new checkpoint. Drops every closed window up to it.
  std::optional<Cursor> take_checkpoint(std::optional<std::uint64_t> durable);

  bool has_closed() const { return !closed_.empty(); }

 private:
  std::deque<Window> pending_;
  std::deque<Window> closed_;
};

}  // namespace pg2ch::capture::poll
