#pragma once
// The outbox drain loop: one PostgreSQL transaction per batch of events.
//
//   BEGIN
//   claim   SELECT ... ORDER BY id LIMIT batch FOR UPDATE SKIP LOCKED
//   check   a truncate another drainer holds must not be overtaken (see below) -> ROLLBACK, retry
//   read    per table, ONE query turning the claimed events into binary rows
//           (key payload: join to the source table; row payload: jsonb_populate_record)
//   write   ChangeSink calls in event-id order, then flush; require durable >= this batch
//   ack     DELETE the claimed ids, record progress
//   COMMIT
//
// Nothing is deleted before ClickHouse accepted the rows, so a crash anywhere re-delivers the
// batch; ReplacingMergeTree collapses the repeated (key, _version) pairs.
//
// _version is the event id. Per-key order holds because a second writer of a row waits for the
// first writer's row lock (or, for a key being inserted, its unique-index entry) until that
// transaction ends; only then can its statement finish and its AFTER trigger take an id from the
// identity sequence. So events of one key get ids in commit order, even though ids of unrelated
// rows may commit out of order (which only changes which batch they land in).
//
// Key payload fetches the row as it is *now*, which may be newer than the event. That is still
// exact for the final state: the row's newest change has its own event with a higher id, drained
// in this batch or a later one with a fetch at least as new, and that version wins.
//
// Several drainers (processes) may run at once: SKIP LOCKED hands each event to exactly one. The
// only cross-batch order that matters besides versions is TRUNCATE, which empties the target:
// a truncate must not run before earlier events of its table reached ClickHouse, and later events
// must not reach ClickHouse before it. A drainer that would break either rule rolls its claim back
// and tries again after outbox.interval (TRUNCATE is rare; drainers do not otherwise wait).
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "capture/outbox/outbox_sql.h"
#include "pg/connection.h"
#include "pipeline/change_sink.h"

namespace pg2ch::capture::outbox {

struct DrainStats {
  std::uint64_t batches = 0;
  std::uint64_t events = 0;
  std::uint64_t truncates = 0;
  std::uint64_t blocked = 0;  // claims rolled back to respect another drainer's truncate
};

class OutboxDrainer {
 public:
  enum class Outcome { Drained, Empty, Blocked };

  OutboxDrainer(pg::Connection& conn, OutboxNames names, Payload payload,
                const std::vector<const pipeline::TableSchema*>& tables, pipeline::ChangeSink& sink,
                std::size_t batch_size);

  // One claim transaction. Throws pg2ch::Error (the claim is rolled back and the events stay).
  Outcome drain_once();
  const DrainStats& stats() const { return stats_; }

 private:
  struct Event {
    std::int64_t id;
    const pipeline::TableSchema* table;
    char op;
  };
  struct TableQueries {
    std::string fetch;
  };

  std::vector<Event> claim();
  bool blocked_by_other_drainer(const std::vector<Event>& events, const std::string& ids);
  void deliver(const std::vector<Event>& events, const std::string& ids);

  pg::Connection& conn_;
  OutboxNames names_;
  std::map<std::pair<std::string, std::string>, const pipeline::TableSchema*> tables_;
  std::map<const pipeline::TableSchema*, TableQueries> queries_;
  pipeline::ChangeSink& sink_;
  std::string batch_size_;
  std::string claim_sql_, delete_sql_, progress_sql_, foreign_truncate_sql_, foreign_event_sql_;
  // The sink's position is this drainer's batch counter, not an event id: ids of one drainer's
  // successive batches need not increase (an id taken earlier may commit later).
  pipeline::Position position_ = 0;
  DrainStats stats_;
};

}  // namespace pg2ch::capture::outbox
