#pragma once
// The outbox drain loop: one PostgreSQL transaction per batch of events.
//
//   BEGIN
//   truncate  the oldest pending TRUNCATE, if no other drainer holds it: lock its table's earlier
//             events (waiting for drainers that hold some), empty the target, drop both -> COMMIT;
//             a copy request (a partition truncated, attached, detached or dropped) the same, but
//             the table is marked copying instead of emptied, and copied again after the COMMIT
//             (partition_copies.h)
//   claim     SELECT ... WHERE ctid >= cursor LIMIT batch FOR UPDATE SKIP LOCKED (heap order,
//             wrapping to the start of the heap when the end gives less than a batch)
//   check     an event written after a pending TRUNCATE of its table must not overtake it
//             -> ROLLBACK, retry after outbox.interval
//   read      per table, ONE query turning the claimed events into binary rows
//             (key payload: join to the source table; row payload: jsonb_populate_record)
//   write     ChangeSink calls in lsn order, then flush; require durable >= this batch
//   ack       DELETE the claimed ctids, record progress
//   COMMIT
//
// Nothing is deleted before ClickHouse accepted the rows, so a crash anywhere re-delivers the
// batch; ReplacingMergeTree collapses the repeated (key, _version) pairs.
//
// _version is the event's lsn: the WAL insert position its trigger read. Per key it increases in
// commit order: a second writer of a row waits for the first writer's row lock (or, for a key
// being inserted, its unique-index entry) until that transaction ends, and only then does its
// AFTER trigger read a position, beyond the first one's commit record. The queue has no index
// (each one would cost every writing statement), so batches follow the heap, not the versions;
// the final state does not depend on the order in which versions arrive.
//
// Key payload fetches the row as it is *now*, whatever the op said: the key's newest change has
// its own event with a higher version, drained in this batch or a later one with a fetch at least
// as new, and that version wins.
//
// Per-table states (capture/table_sync/table_state.h): a table is copied once (outbox_copy.h),
// then streams. An event whose value its table's target cannot hold
// stops that table only: what the sink holds of it from the batch is discarded and its events
// stay in the queue, the refused one and every later one (claims skip stopped tables), while the
// batch's other events are written and deleted. The next start applies them again, which is
// exact because they are the table's changes from the refused one on, in the queue as they were.
// A TRUNCATE of a stopped table supersedes its queued events: the table streams again after it.
// ClickHouse refusing a batch of one table's rows (its target changed by hand) stops that table
// the same way: none of the batch's events of it are deleted, so the next start, once the target
// is mended, applies them again. Columns changed at the source (capture/shared/column_watch.h:
// a fetch that fails, result types that differ, or a catalog read after the fetch that shows other
// columns) are seen before an event is decoded with the old shape; the table's events stay queued.
// With the key payload, whose fetch reads the rows as they are now, the follower (the logical
// mode's schema_evolution.h, with the catalog's description as the new shape) alters the target
// in place, the table's state first, and the next batch fetches its events with the new columns:
// the table streams on. With the row payload the same: an event's row is read only when it
// carries the mark of the table's columns now (outbox_sql.h row_mark); any other event of the
// table (queued before the change, or written by the functions installed before pg2ch replaced
// them) is read from the table as the key payload reads every event; row_payload_follow.h says
// why each kind of change is exact so, and which one it refuses. A change that is not followed
// stops the table; the fix (drop its target, delete its queued events, `pg2ch resync`, restart)
// copies it again with its new columns:
// the deleted events' changes were committed before the copy's snapshot, which holds them, and
// every later change has an event of the new shape.
//
// Several drainers (processes) may run at once: SKIP LOCKED hands each event to exactly one. The
// only cross-batch order besides versions is TRUNCATE, which empties the target: its table's
// earlier events must reach ClickHouse before it or never (the handler locks and discards them),
// and later ones only after it.
#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "capture/outbox/copy_lock.h"
#include "capture/outbox/outbox_sql.h"
#include "capture/shared/column_watch.h"
#include "capture/table_sync/table_states.h"
#include "common/lsn.h"
#include "pg/connection.h"
#include "pipeline/change_sink.h"

namespace pg2ch::capture::outbox {

struct DrainStats {
  std::uint64_t batches = 0;
  std::uint64_t events = 0;
  std::uint64_t truncates = 0;
  std::uint64_t copies = 0;  // tables copied again for copy requests (partition_copies.h)
  std::uint64_t blocked = 0;  // claims rolled back to let a pending truncate go first
};

class OutboxDrainer {
 public:
  enum class Outcome { Drained, Empty, Blocked };

  // Claims skip the tables `states` holds as stopped (update_stopped_rels() after changing them).
  OutboxDrainer(pg::Connection& conn, OutboxNames names, Payload payload,
                const std::vector<const pipeline::TableSchema*>& tables, pipeline::ChangeSink& sink,
                std::size_t batch_size, table_sync::TableStates& states);
  ~OutboxDrainer();
  OutboxDrainer(const OutboxDrainer&) = delete;
  OutboxDrainer& operator=(const OutboxDrainer&) = delete;

  // One drain transaction. Throws pg2ch::Error (the claim is rolled back and the events stay).
  Outcome drain_once();
  const DrainStats& stats() const { return stats_; }
  // Reads which tables are stopped again (after their states changed outside the drainer).
  void update_stopped_rels();
  // A table that joined while running (its triggers installed, `states` has it): its events are
  // drained from the next claim on.
  void add_table(const pipeline::TableSchema& table);
  // Looks for changed columns of the tables a batch touches (capture/shared/column_watch.h); a
  // change stops that table. Must outlive the drainer.
  void watch_columns(ColumnWatch& columns) { columns_ = &columns; }
  // Follows a change of a table's columns in place: nullopt once its schema (and target) are the
  // catalog's, else why not (the table then stops). Without one, a change stops its table.
  using ColumnFollower = std::function<std::optional<std::string>(const pipeline::TableSchema&)>;
  void follow_columns(ColumnFollower follow) { follow_ = std::move(follow); }
  // Copy requests (partition_copies.h). `copy` copies a table again from a snapshot of its own
  // (outbox_copy.h copy_tables with `requests`), called after the drain transaction that marked
  // it copying committed, with the version of the last request it serves and what confirms that
  // the sink holds the rows (throws when it does not, the table left copying); false when stopped
  // meanwhile (left copying: the next start copies it). `later`, called inside that transaction,
  // records durably that a stopped table is copied at the next start instead. Without them, a
  // copy request stops the pipeline.
  using CopyAgain =
      std::function<bool(const pipeline::TableSchema&, Lsn requests_upto, const std::function<void()>& confirm)>;
  using CopyLater = std::function<void(const pipeline::TableSchema&)>;
  void copy_again_with(CopyAgain copy, CopyLater later) {
    copy_again_ = std::move(copy);
    copy_later_ = std::move(later);
  }
  // An empty sink transaction, required durable: everything sent before it (a copy's TRUNCATE and
  // rows, at position 0) is confirmed. Throws Error(Connection, retriable) otherwise.
  void confirm_delivered(std::string_view what);

 private:
  struct Event {
    std::string ctid;  // "(block,offset)"
    std::uint64_t tid; // block << 16 | offset: how the fetch queries' binary ctid is matched
    Lsn lsn;
    const pipeline::TableSchema* table;
  };
  struct Truncate {
    Lsn lsn;
    const pipeline::TableSchema* table;
  };

  const pipeline::TableSchema* table_of(std::string_view rel_oid) const;
  void commit_to_sink(std::string_view what);
  bool handle_truncate();
  void handle_copy_request(const pipeline::TableSchema& table, const std::string& rel);
  void copy_requested_table(const pipeline::TableSchema& table);
  std::vector<Event> claim();
  void claim_range(std::vector<Event>& out, bool wrap, std::size_t limit);
  bool must_wait_for_truncate(const std::vector<Event>& events);
  // Returns the tables it stopped (their events must stay in the queue).
  std::vector<const pipeline::TableSchema*> write_batch(const std::vector<Event>& events, const std::string& ctids);
  void stop_table(const pipeline::TableSchema& table, const Event& refused, const Error& error, const std::string& key);
  // ClickHouse refused a batch of `table`'s rows (pipeline::RefusalHandler, inside a sink flush
  // that drops the batch itself): the table stops and joins refused_, whose events the batch
  // leaves queued. False: not one of ours, or not its trouble alone.
  bool stop_refused(const pipeline::TableSchema& table, const Error& error);
  // Its columns changed at the source: its events stay queued, and it either follows the change
  // (its events are fetched with the new columns from the next batch on) or stops.
  void columns_changed(const pipeline::TableSchema& table, std::string change);
  void stop_for_changed_columns(const pipeline::TableSchema& table, std::string change);
  std::string fetch_sql_of(const pipeline::TableSchema& table) const;

  pg::Connection& conn_;
  OutboxNames names_;
  std::map<std::uint32_t, const pipeline::TableSchema*> tables_;  // by relation oid
  std::map<const pipeline::TableSchema*, std::string> fetch_sql_;
  pipeline::ChangeSink& sink_;
  std::size_t batch_size_;
  Payload payload_;
  table_sync::TableStates& states_;
  ColumnWatch* columns_ = nullptr;
  ColumnFollower follow_;
  CopyAgain copy_again_;
  CopyLater copy_later_;
  // Set by handle_copy_request: the table drain_once copies once its transaction committed, the
  // last request that copy serves, and the lock held until the requests are deleted after it.
  const pipeline::TableSchema* copy_next_ = nullptr;
  Lsn copy_upto_ = kInvalidLsn;
  std::optional<CopyLock> copy_lock_;
  const pipeline::TableSchema* fetch_failed_ = nullptr;  // set while a table's events are fetched
  std::vector<const pipeline::TableSchema*> refused_;  // stopped by a refused insert in this batch
  std::string stopped_rels_ = "{}";  // oid[] literal: the claims skip these tables' events
  std::string claim_sql_, wrap_sql_, delete_sql_, progress_sql_;
  std::string pending_truncates_sql_, lock_truncate_sql_, lock_before_sql_, delete_truncate_sql_,
      lock_copy_requests_sql_, delete_copy_requests_sql_;
  // Where the next claim starts in the heap: after the previous batch, so a backlog is read once
  // rather than re-scanning the dead rows of drained batches (until vacuum) on every claim.
  std::string cursor_ = "(0,0)";
  // The sink's position is this drainer's batch counter: the versions of successive batches need
  // not increase.
  pipeline::Position position_ = 0;
  DrainStats stats_;
};

}  // namespace pg2ch::capture::outbox
