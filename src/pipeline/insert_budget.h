#pragma once
// How many INSERTs the pipeline may send ClickHouse, in all and per table.
//
// Every INSERT makes a part that ClickHouse merges later; a server with too many parts refuses
// writes (code 252), and its guidance is about one INSERT per second per table. With hundreds of
// tables each holding a small batch, flushing every batch when its max_delay passes makes
// hundreds of INSERTs a second. So a batch that is due by *time* is flushed only when
//   - its table's previous INSERT is at least `table_interval` ago (max_delay wins when it is
//     shorter: a user who asked for 100 ms batches gets them), and
//   - a token of the global bucket is free (`per_second` tokens a second, one second of burst).
// When more batches are due than tokens are free, the batch whose rows have waited longest in
// total (rows x their waiting time, "row-seconds") goes first: a busy table's batch outranks a
// one-row batch of a cold table within a second, and a cold table's wait still grows until it
// is served — busy tables keep their latency, cold ones wait longer, the rate stays in budget.
//
// Flushes that cannot wait (a batch full by rows or bytes, a flush before a TRUNCATE or at stop)
// are charged without waiting; the bucket may then go into debt (at most one second's worth),
// which later time-due batches pay back by waiting. Memory stays bounded: a waiting batch is
// still flushed at max_rows / max_bytes.
//
// Pure bookkeeping over time points the caller passes, so it is unit-tested without a clock.
#include <algorithm>
#include <chrono>

namespace pg2ch::pipeline {

class InsertBudget {
 public:
  using Clock = std::chrono::steady_clock;

  // per_second <= 0: no global limit.
  InsertBudget(double per_second, Clock::time_point now);

  // SIGHUP: a new rate from now on (tokens kept, clamped to the new burst).
  void set_rate(double per_second, Clock::time_point now);
  bool limited() const { return per_second_ > 0; }

  // One INSERT of a time-due batch, if a token is free now.
  bool try_take(Clock::time_point now);
  // One INSERT that does not wait (full batch, flush before TRUNCATE or at stop).
  void charge(Clock::time_point now);
  // When the next token is free (now if one is), for the caller's wait.
  Clock::time_point next_token_at(Clock::time_point now);

  // Free tokens now (negative: in debt), for tests and logs.
  double tokens(Clock::time_point now);

 private:
  void refill(Clock::time_point now);

  double per_second_;
  double tokens_;
  Clock::time_point refilled_at_;
};

// The wait a time-due batch of one table needs before its next INSERT (max_delay wins over
// table_interval when it is shorter).
inline std::chrono::milliseconds effective_table_interval(std::chrono::milliseconds table_interval,
                                                          std::chrono::milliseconds max_delay) {
  return std::min(table_interval, max_delay);
}

}  // namespace pg2ch::pipeline
