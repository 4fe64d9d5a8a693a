#pragma once
// The watermark capture shared by mode = "poll" and mode = "notify": per table a cursor, a queue
// of visibility-horizon windows and a persisted checkpoint; one source connection, one sink.
// The modes differ only in *when* they call catch_up() (a timer, or notifications).
//
// Persisted (state store, key "watermark.<schema>.<table>"): the hi of the newest window that is
// closed (late rows rescanned) and durable in the sink. Rows after it may be delivered again
// after a restart; ReplacingMergeTree collapses them by key and _version.
//
// Per-table states (capture/table_sync/table_state.h): a table without a checkpoint is `copying`
// (its backlog, read from the first row, is its initial copy) until a fresh page first comes back
// short, then `streaming`. A row its target cannot hold stops that table only: what the sink holds
// of it is discarded, its windows are dropped (their rows were among the discarded) and its
// checkpoint stays where it was, the last position whose rows are all durable. The next start
// reads it again from that checkpoint, which is exact because polling reads rows as they are now:
// a corrected value, or a config that maps it, passes; an unchanged one stops the table again.
// ClickHouse refusing a batch of one table's rows (its target changed by hand) stops that table
// the same way: the refused rows are not durable, so the checkpoint is before them, and the next
// start (or `pg2ch resync`) reads them again once the target is mended.
//
// Columns changed at the source while running (capture/shared/column_watch.h: added, dropped,
// renamed, retyped, NOT NULL dropped) are seen before a row of the new shape is decoded with the
// old one: a read that fails (a column dropped or renamed), a page whose result types differ, or
// a page followed by a catalog read that shows other columns. The follower (the logical mode's
// schema_evolution.h, with the catalog's description as the new shape) then brings the target in
// line in place, the table's state first, and the page is read again with the new columns: the
// table streams on, never copied. A change it cannot follow (or set to "stop") stops that table:
// the next start finds its columns changed since it stopped, re-creates its target with the new
// columns and reads it again from its first row (watermark_source.h).
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/poll/horizon_probe.h"
#include "capture/poll/keyset.h"
#include "capture/poll/version_clock.h"
#include "capture/poll/page_reader.h"
#include "capture/table_sync/table_states.h"
#include "capture/poll/window_queue.h"
#include "capture/shared/column_watch.h"
#include "config/config.h"
#include "pg/catalog.h"
#include "pg/connection.h"
#include "pipeline/change_sink.h"
#include "state/state_store.h"

namespace pg2ch::capture::poll {

struct PollTable {
  const pipeline::TableSchema* schema = nullptr;
  Keyset keyset;
  std::string state_key;
  std::optional<Cursor> cursor;       // the next fresh page starts after it
  std::optional<Cursor> checkpoint;   // as persisted
  WindowQueue windows;
  bool caught_up = false;             // the last fresh page came back short
  bool stopped = false;               // a row was refused: not read again in this run
  // Read from its first row, nothing of it sent yet: a sink without a bulk load gets a TRUNCATE
  // of it before the first page (capture/shared/copy_truncate.h). Not after a checkpoint: the
  // pages before it are with the consumers, and only a forgotten checkpoint reads from the
  // first row again.
  bool truncate_first = false;
  bool forgotten = false;             // dropped at the source with its target (dropped_table.h)
  std::chrono::steady_clock::time_point blocked_since{};  // front window first found still open
  std::chrono::steady_clock::time_point last_block_warning{};
  std::chrono::steady_clock::time_point last_reset_check{};
  std::chrono::steady_clock::time_point last_reset_warning{};
  // The backlog read in this run until the first short page (the initial copy, or its rest after
  // a kill: it goes on from the checkpoint), for the progress lines.
  std::uint64_t backlog_rows = 0;
  std::chrono::steady_clock::time_point last_progress{};
};

// The watermark column configured for `ref` ([[tables]] watermark, else poll.watermark).
std::string watermark_column(const config::Config& cfg, const pg::TableRef& ref);
// State store key of a table's checkpoint.
std::string checkpoint_key(const pipeline::TableSchema& t);

class PollEngine {
 public:
  // Loads each table's checkpoint and sets its state (copying or streaming, by whether it has
  // one); `keysets` parallel to `tables`, which `states` covers.
  PollEngine(const config::Config& cfg, pg::Connection& source, const std::vector<const pipeline::TableSchema*>& tables,
             std::vector<Keyset> keysets, pipeline::ChangeSink& sink, state::StateStore& state,
             table_sync::TableStates& states);
  ~PollEngine();
  PollEngine(const PollEngine&) = delete;
  PollEngine& operator=(const PollEngine&) = delete;

  // Reads fresh pages of the tables in `which` (every table when empty) until each comes back
  // short, closing windows, flushing and checkpointing on the way. Returns the rows read.
  std::size_t catch_up(const std::vector<std::size_t>& which, const std::atomic<bool>& stop);
  // Closes (rescans) every front window whose horizon has passed; then checkpoints.
  void maintain(const std::atomic<bool>& stop);

  bool windows_pending() const;
  // Every table caught up, no window open or awaiting durability, the sink durable.
  bool finished() const;
  // The time until the sink wants poll() again, if it buffers anything.
  std::optional<std::chrono::milliseconds> sink_poll();
  // Flushes the sink and stores what became durable (shutdown, or before stopping when caught up).
  void flush();

  // Called once per round of pages while catching up (RunOptions::alive): a first catch-up over a
  // large backlog is long, and the loop must not look stuck meanwhile.
  void set_alive(std::function<void()> alive) { alive_ = std::move(alive); }
  // Looks for changed columns before reading a table (capture/shared/column_watch.h); a change
  // stops that table. Must outlive the engine.
  void watch_columns(ColumnWatch& columns) { columns_ = &columns; }
  // Follows a change of a table's columns in place: nullopt once its schema (and target) are the
  // catalog's, else why not (the table then stops). Without one, a change stops its table.
  using ColumnFollower = std::function<std::optional<std::string>(const pipeline::TableSchema&)>;
  void follow_columns(ColumnFollower follow) { follow_ = std::move(follow); }
  // A table dropped at the source (its oid gone), once what the sink held of it is discarded:
  // true when its target was dropped and its state forgotten (capture/shared/dropped_table.h);
  // the engine then forgets its checkpoint and never reads it again. Without one, or false, the
  // table stops.
  using DroppedTable = std::function<bool(const pipeline::TableSchema&)>;
  void forget_dropped(DroppedTable forget) { forget_dropped_ = std::move(forget); }

  // `pg2ch resync` while running: table `i` is read again from its first row (copying). What the
  // sink holds of it is discarded and its checkpoint forgotten; the caller empties its target.
  void read_again(std::size_t i);

  // A table that joined while running (capture/shared/new_tables.h; `states` has it): read from
  // its first row (copying), then streamed. Its index is table_count() before the call.
  void add_table(const pipeline::TableSchema& table, Keyset keyset);

  std::optional<std::size_t> table_index(const std::string& qualified) const;
  std::size_t table_count() const { return tables_.size(); }
  std::uint64_t rows_read() const { return rows_read_; }
  std::uint64_t late_rows() const { return late_rows_; }

 private:
  std::size_t read_fresh_page(PollTable& t);
  // Caught up and nothing new: is the watermark back below the cursor (its sequence reset, ids
  // reused)? Rows below the cursor are never read: a sequence and greatest value both behind it
  // stop the table; a lower greatest value alone (deletes cause it too) is warned about.
  void report_backlog(PollTable& t, std::size_t rows);
  void check_watermark_not_reset(PollTable& t);
  void close_windows(PollTable& t, const std::atomic<bool>& stop);
  // Stops `t` alone (see the header comment); durable before return.
  void stop_table(PollTable& t, table_sync::StopReason why);
  // ClickHouse refused a batch of `table`'s rows (pipeline::RefusalHandler, called from inside a
  // sink flush, which drops that batch itself): stops the table like stop_table() without
  // touching the sink; rows of it buffered after the refusal are discarded by the reader that
  // finds the table stopped (read_fresh_page, rescan). False: not one of ours, or not its alone.
  bool stop_refused(const pipeline::TableSchema& table, const Error& error);
  // Forgets `t`'s windows and moves its cursor back to the checkpoint (see stop_table).
  void mark_stopped(PollTable& t, table_sync::StopReason why);
  table_sync::StopReason refused(const PollTable& t, const RefusedRow& row) const;
  // Whether `t`'s columns changed at the source (looked at now when `read_failed`) and it stopped
  // for that; false also when the change was followed (its keyset is then the new columns').
  bool stopped_for_changed_columns(PollTable& t, bool read_failed);
  // Follows a change of `t`'s columns, or stops `t` with it (always when the table is gone);
  // true when followed.
  bool follow_or_stop(PollTable& t, ColumnWatch::Change gone_or_changed);
  void stop_for_changed_columns(PollTable& t, std::string change);
  // Reads a page (`read` builds its query from t.keyset each time); a change of the table's
  // columns found is followed and the page read again, or stops the table (nullopt).
  template <typename Read>
  std::optional<SnapshotPage> read_checked(PollTable& t, Read read);
  void rescan(PollTable& t, const Window& w, const std::atomic<bool>& stop, pipeline::Position& position);
  void persist_checkpoints();
  pipeline::Position next_position() { return ++position_; }

  const config::Config& cfg_;
  pg::Connection& source_;
  pipeline::ChangeSink& sink_;
  state::StateStore& state_;
  table_sync::TableStates& states_;
  HorizonProbe horizon_;
  VersionClock versions_;
  std::vector<std::unique_ptr<PollTable>> tables_;
  pipeline::Position position_ = 0;
  std::uint64_t rows_read_ = 0;
  std::uint64_t late_rows_ = 0;
  std::function<void()> alive_;
  ColumnWatch* columns_ = nullptr;
  ColumnFollower follow_;
  DroppedTable forget_dropped_;
};

}  // namespace pg2ch::capture::poll
