#pragma once
// Why a notification is followed by more polls, and when they may stop. Pure: no server, no
// clock (unit-tested in tests/unit/capture/notify/).
//
// The trigger notifies at most once per session per table per time bucket of notify.coalesce
// (server clock): a session's first statement of a bucket records the bucket in a session setting
// and notifies; its others of that bucket skip the notification, because every transaction that
// queues one is serialised at commit by PostgreSQL. A skipped transaction T may commit after the
// notifier (an earlier transaction of T's session: a notifier that aborts takes its setting with
// it), so the poll the notification causes can miss T. What is known about T: it wrote its row, so it had
// a transaction id, before its trigger read the clock, i.e. before the end of the notified bucket
// (the payload carries that end, `ends_us`). Hence, each round a probe then a poll:
//
//   1. a probe at a server time after `ends_us` lists the transactions holding an xid
//      (pg_stat_activity.backend_xid, pg_prepared_xacts): T is among them, or has ended, and then
//      the poll that follows the probe reads its row (or a pending horizon window will);
//   2. later probes drop those that ended; once none is left, the poll after that probe has read
//      what they committed, and the follow-up is done.
//
// Not the poll snapshot's xip: since PostgreSQL 14 a snapshot's xmax is the latest *completed*
// xid + 1, so a running transaction with a newer xid is in no snapshot's xip. Transactions that
// take an xid after the first probe are not waited for (they notify or are followed up
// themselves), so the set only shrinks; a long unrelated transaction in it keeps the cheap
// rounds going until it ends.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg2ch::capture::notify {

// A notification's payload: "<schema>.<table>:<end of the bucket, µs since 1970>". A payload with
// no ":<digits>" suffix comes from a trigger installed by an older pg2ch, which notifies every
// statement: no follow-up is needed for it.
struct Payload {
  std::string table;
  std::optional<std::int64_t> bucket_end_us;
};
Payload parse_payload(std::string_view text);

// The bucket length the trigger divides the server clock by: notify.coalesce in µs, at least
// 1000 (coalesce_ms = 0 means 1 ms buckets, not a division by zero in every writer).
std::int64_t bucket_us(std::int64_t coalesce_ms);

class FollowUp {
 public:
  // A notification for a bucket ending at `ends_us` arrived.
  void notified(std::int64_t ends_us);
  // A probe, at server time `at_us`, found these transactions holding an xid (32-bit xids,
  // compared for equality only: an xid is not reused while its transaction runs).
  void probed(std::int64_t at_us, const std::vector<std::uint32_t>& running);
  // The table was polled; every probe so far happened before.
  void polled();

  // Whether the table must be probed and polled again (every notify.coalesce).
  bool active() const { return target_.has_value(); }
  // The transactions still waited for (after step 1), for logs and tests.
  const std::vector<std::uint32_t>& waiting_for() const { return waiting_; }
  bool passed_bucket_end() const { return step_ != Step::BucketEnd; }

 private:
  enum class Step { BucketEnd, Transactions, LastPoll };
  std::optional<std::int64_t> target_;   // bucket end being followed up
  std::int64_t done_through_ = 0;         // every bucket ending at or before it is followed up
  Step step_ = Step::BucketEnd;
  std::vector<std::uint32_t> waiting_;    // step 2: xids held after the bucket ended
};

}  // namespace pg2ch::capture::notify
