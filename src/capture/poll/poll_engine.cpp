#include "capture/poll/poll_engine.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "capture/poll/page_reader.h"
#include "capture/poll/pg_snapshot.h"
#include "capture/shared/copy_truncate.h"

namespace pg2ch::capture::poll {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kBlockedWarningEvery = std::chrono::seconds(60);

}  // namespace

std::string watermark_column(const config::Config& cfg, const pg::TableRef& ref) {
  if (ref.selector && !ref.selector->watermark.empty()) return ref.selector->watermark;
  return cfg.poll.watermark;
}

std::string checkpoint_key(const pipeline::TableSchema& t) { return "watermark." + t.qualified_source(); }

PollEngine::PollEngine(const config::Config& cfg, pg::Connection& source,
                       const std::vector<const pipeline::TableSchema*>& tables, std::vector<Keyset> keysets,
                       pipeline::ChangeSink& sink, state::StateStore& state, table_sync::TableStates& states)
    : cfg_(cfg), source_(source), sink_(sink), state_(state), states_(states), horizon_(source) {
  // Cursors are stored as text and sent back as text: pin the date format so a checkpoint written
  // under one DateStyle is read back the same under another (role or database defaults change).
  source_.exec("SET DateStyle = 'ISO, YMD'; SET application_name = 'pg2ch poll'");
  for (std::size_t i = 0; i < tables.size(); ++i) {
    auto t = std::make_unique<PollTable>();
    t->schema = tables[i];
    t->keyset = std::move(keysets[i]);
    t->state_key = checkpoint_key(*t->schema);
    if (auto stored = state_.get(t->state_key)) {
      auto c = decode_checkpoint(*stored);
      if (c && c->column == t->keyset.order.front().name && c->cursor.keys.size() + 1 == t->keyset.order.size()) {
        t->cursor = c->cursor;
        t->checkpoint = c->cursor;
        spdlog::info("{}: resuming after its checkpoint (watermark {})", t->schema->qualified_source(), c->column);
      } else {
        spdlog::warn("{}: the stored checkpoint is for another watermark column or key; reading from the first row",
                     t->schema->qualified_source());
      }
    }
    t->truncate_first = !t->checkpoint;
    tables_.push_back(std::move(t));
  }
  using table_sync::TablePhase;
  std::vector<const pipeline::TableSchema*> copying, streaming;
  for (const auto& t : tables_) {
    const auto& recorded = states_.at(*t->schema);
    if (recorded.phase == TablePhase::Stopped) {
      spdlog::warn("{}: stopped in an earlier run ({}); reading it again from {}", t->schema->qualified_source(),
                   recorded.reason, t->checkpoint ? "its checkpoint" : "its first row");
    }
    // A copy cut short goes on from its checkpoint: still copying until it reads its newest row.
    const TablePhase now = !t->checkpoint || recorded.phase == TablePhase::Copying ? TablePhase::Copying
                                                                                  : TablePhase::Streaming;
    if (recorded.phase != now || states_.changed_since_recorded(*t->schema)) {
      (now == TablePhase::Copying ? copying : streaming).push_back(t->schema);
    }
  }
  if (!copying.empty()) states_.set(copying, TablePhase::Copying);
  if (!streaming.empty()) states_.set(streaming, TablePhase::Streaming);
  sink_.set_refusal_handler(
      [this](const pipeline::TableSchema& table, const Error& error) { return stop_refused(table, error); });
}

PollEngine::~PollEngine() { sink_.set_refusal_handler({}); }

void PollEngine::add_table(const pipeline::TableSchema& table, Keyset keyset) {
  auto t = std::make_unique<PollTable>();
  t->schema = &table;
  t->keyset = std::move(keyset);
  t->state_key = checkpoint_key(table);
  // A checkpoint left by an earlier table of that name is not this one's.
  state_.erase(t->state_key);
  t->truncate_first = true;
  tables_.push_back(std::move(t));
  states_.set(table, table_sync::TablePhase::Copying);
}

void PollEngine::read_again(std::size_t i) {
  PollTable& t = *tables_.at(i);
  if (t.forgotten) return;
  sink_.discard(*t.schema);
  t.windows = WindowQueue{};
  t.cursor.reset();
  t.checkpoint.reset();
  t.truncate_first = true;
  t.caught_up = false;
  t.stopped = false;
  t.blocked_since = {};
  state_.erase(t.state_key);
  states_.set(*t.schema, table_sync::TablePhase::Copying);
}

std::optional<std::size_t> PollEngine::table_index(const std::string& qualified) const {
  for (std::size_t i = 0; i < tables_.size(); ++i) {
    if (!tables_[i]->forgotten && tables_[i]->schema->qualified_source() == qualified) return i;
  }
  return std::nullopt;
}

void PollEngine::stop_for_changed_columns(PollTable& t, std::string change) {
  stop_table(t, {std::move(change),
                 fmt::format("restart pg2ch: a table whose columns changed since it stopped gets its target re-created "
                             "with its new columns and is read again from its first row (the other tables go on from "
                             "their checkpoints)")});
}

bool PollEngine::follow_or_stop(PollTable& t, ColumnWatch::Change gone_or_changed) {
  if (gone_or_changed.dropped && forget_dropped_) {
    sink_.discard(*t.schema);
    if (forget_dropped_(*t.schema)) {
      t.windows = WindowQueue{};
      t.caught_up = t.stopped = t.forgotten = true;
      state_.erase(t.state_key);
      return false;
    }
  }
  if (gone_or_changed.table_gone) {
    stop_table(t, {std::move(gone_or_changed.what) + "; its target keeps the rows it has",
                   "remove the table from the config, or name it as it is now in [[tables]] (a new target, read "
                   "from its first row), and restart pg2ch; drop the old target yourself if it is not wanted"});
    return false;
  }
  std::string change = std::move(gone_or_changed.what);
  if (follow_) {
    auto why_not = follow_(*t.schema);
    if (!why_not) {
      try {
        t.keyset = make_keyset(*t.schema, t.keyset.order.front().name);
        return true;
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::Schema) throw;
        why_not = e.one_line();
      }
    }
    change += "; not followed in place: " + *why_not;
  }
  stop_for_changed_columns(t, std::move(change));
  return false;
}

bool PollEngine::stopped_for_changed_columns(PollTable& t, bool read_failed) {
  if (!columns_) return false;
  auto change = columns_->changed(*t.schema, read_failed);
  if (!change) return false;
  return !follow_or_stop(t, std::move(*change));
}

template <typename Read>
std::optional<SnapshotPage> PollEngine::read_checked(PollTable& t, Read read) {
  // A change followed is read again; more than a few in a row while one page is read is not
  // settling (an ALTER loop): the table stops.
  constexpr int kFollowsPerPage = 4;
  for (int follows = 0;; ++follows) {
    std::optional<SnapshotPage> page;
    std::optional<ColumnWatch::Change> change;
    try {
      page = read();
    } catch (const Error&) {
      // A column dropped or renamed fails the query: that table's trouble, not the pipeline's.
      if (!columns_) throw;
      change = columns_->changed(*t.schema, /*now=*/true);
      if (!change) throw;
    }
    // Whenever the change happened: no value is decoded with a type it no longer has, and no row
    // of a new shape is decoded without its new columns (column_watch.h shape_differs).
    if (page) {
      if (auto types = result_types_changed(page->rows, 0, *t.schema)) {
        change = ColumnWatch::Change{
            fmt::format("the columns of {} changed at the source: {}", t.schema->qualified_source(), *types)};
      } else if (columns_ && page->rows.rows() > 0 && columns_->shape_differs(*t.schema)) {
        change = columns_->changed(*t.schema, /*now=*/true);
      }
    }
    if (!change) return page;
    if (follows == kFollowsPerPage) {
      stop_for_changed_columns(t, std::move(change->what) + " (changed again while following the changes before)");
      return std::nullopt;
    }
    if (!follow_or_stop(t, std::move(*change))) return std::nullopt;
  }
}

std::size_t PollEngine::read_fresh_page(PollTable& t) {
  const std::string name = t.schema->qualified_source();
  if (stopped_for_changed_columns(t, /*read_failed=*/false)) return 0;
  const auto read = read_checked(
      t, [&] { return read_page_in_snapshot(source_, fresh_page_query(t.keyset, t.cursor, cfg_.poll.batch_size), name); });
  if (!read) return 0;
  const SnapshotPage& page = *read;
  // After everything the sink took of the table before (read_again discarded only what it still
  // buffered), before the first page: the checkpoint, saved once a later position is durable,
  // covers it.
  if (t.truncate_first) {
    truncate_through_sink(sink_, {t.schema}, next_position());
    t.truncate_first = false;
  }
  const pipeline::Position position = next_position();
  const PageResult r = deliver(page, *t.schema, t.keyset, sink_, versions_.next(page.read_time_us), position);
  if (r.refused) {
    stop_table(t, refused(t, *r.refused));
    return 0;
  }
  if (t.stopped) {  // ClickHouse refused a batch of it meanwhile
    sink_.discard(*t.schema);
    return 0;
  }
  t.caught_up = r.rows < cfg_.poll.batch_size;
  const bool copying = states_.phase(*t.schema) == table_sync::TablePhase::Copying;
  if (copying) report_backlog(t, r.rows);
  if (t.caught_up && copying) {
    spdlog::info("{}: read up to its newest row ({} rows in this run): streaming", name, t.backlog_rows);
    states_.set(*t.schema, table_sync::TablePhase::Streaming);
  }
  if (r.rows == 0) {
    check_watermark_not_reset(t);
    return 0;
  }
  // The cursor moves on at once so fresh rows keep flowing; the range just passed stays open as a
  // window until every transaction that could still commit into it has ended.
  t.windows.push(Window{t.cursor, *r.last, page.snapshot, page.read_time_us, page.running_xids, position});
  t.cursor = r.last;
  rows_read_ += r.rows;
  spdlog::debug("{}: read {} row(s)", name, r.rows);
  return r.rows;
}

// The initial copy's progress lines, like the logical snapshot's: every few seconds while a
// copying table's backlog is read (from its first row, or from its checkpoint after a kill).
void PollEngine::report_backlog(PollTable& t, std::size_t rows) {
  constexpr auto kEvery = std::chrono::seconds(5);
  t.backlog_rows += rows;
  const auto now = Clock::now();
  if (t.caught_up || now - t.last_progress < kEvery) return;
  if (t.last_progress == Clock::time_point{}) {
    t.last_progress = now;  // the first page: a table read in one go says nothing until it is done
    return;
  }
  t.last_progress = now;
  spdlog::info("{}: copying, {} rows read so far in this run", t.schema->qualified_source(), t.backlog_rows);
}

void PollEngine::check_watermark_not_reset(PollTable& t) {
  constexpr auto kCheckEvery = std::chrono::seconds(10);
  constexpr auto kWarnEvery = std::chrono::minutes(10);
  const auto now = Clock::now();
  if (!t.cursor || now - t.last_reset_check < kCheckEvery) return;
  t.last_reset_check = now;
  const Query q = watermark_reset_query(t.keyset, *t.cursor);
  pg::Result r = source_.query(q.sql, q.params);
  const std::string name = t.schema->qualified_source();
  const std::string& column = t.keyset.order.front().name;
  const std::string fix = fmt::format(
      "run `pg2ch resync {}`: its target is emptied and it is read again from its first row",
      name);
  const bool greatest_below = !r.is_null(0, 3) && r.boolean(0, 3);
  // Both: a sequence behind the checkpoint alone may only mean rows were given larger ids by hand.
  if (!r.is_null(0, 2) && r.boolean(0, 2) && greatest_below) {
    stop_table(t, {fmt::format("{}: sequence {} of watermark column {} is at {}, below the checkpoint {} (TRUNCATE "
                               "... RESTART IDENTITY, or the sequence was reset): rows numbered up to the checkpoint "
                               "would never be read",
                               name, r.text(0, 0), column, r.text(0, 1), t.cursor->watermark),
                   fix});
    return;
  }
  if (greatest_below && now - t.last_reset_warning >= kWarnEvery) {
    t.last_reset_warning = now;
    spdlog::warn("{}: the greatest {} is below the checkpoint {}: if values were reused or moved back, rows below the "
                 "checkpoint are not read ({}); if the newest rows were only deleted, nothing is wrong (mode poll "
                 "does not see deletes)",
                 name, column, t.cursor->watermark, fix);
  }
}

void PollEngine::rescan(PollTable& t, const Window& w, const std::atomic<bool>& stop, pipeline::Position& position) {
  const std::string name = t.schema->qualified_source();
  const auto snapshot = parse_pg_snapshot(w.snapshot);
  if (!snapshot) throw ProtocolError(fmt::format("{}: cannot parse snapshot \"{}\"", name, w.snapshot));
  const RescanRange range{&w.lo, &w.hi, &w.snapshot, snapshot->xmax};
  std::optional<Cursor> after;
  while (!stop.load()) {
    const auto read = read_checked(
        t, [&] { return read_page(source_, rescan_page_query(t.keyset, range, after, cfg_.poll.batch_size), name); });
    if (!read) return;
    const SnapshotPage& page = *read;
    if (page.rows.rows() == 0) return;
    position = next_position();
    const PageResult r = deliver(page, *t.schema, t.keyset, sink_, versions_.next(page.read_time_us), position);
    if (r.refused) {
      stop_table(t, refused(t, *r.refused));
      return;
    }
    if (t.stopped) {  // ClickHouse refused a batch of it meanwhile
      sink_.discard(*t.schema);
      return;
    }
    late_rows_ += r.rows;
    rows_read_ += r.rows;
    spdlog::debug("{}: {} row(s) committed out of order delivered by the window rescan", name, r.rows);
    if (r.rows < cfg_.poll.batch_size) return;
    after = r.last;
  }
}

void PollEngine::close_windows(PollTable& t, const std::atomic<bool>& stop) {
  while (t.windows.has_pending() && !stop.load()) {
    const Window& w = t.windows.front();
    if (!horizon_.can_close(w)) {
      const auto now = Clock::now();
      if (t.blocked_since == Clock::time_point{}) t.blocked_since = now;
      if (now - t.blocked_since >= kBlockedWarningEvery && now - t.last_block_warning >= kBlockedWarningEvery) {
        t.last_block_warning = now;
        spdlog::warn("{}: {} window(s) wait for transaction(s) open since before a read {} s ago; the checkpoint "
                     "stays put until they end (look for long transactions in pg_stat_activity)",
                     t.schema->qualified_source(), t.windows.pending_count(),
                     std::chrono::duration_cast<std::chrono::seconds>(now - t.blocked_since).count());
      }
      return;
    }
    pipeline::Position position = w.position;
    rescan(t, w, stop, position);
    if (stop.load() || t.stopped) return;  // a partial rescan: the window stays open and is redone next run
    t.windows.close_front(position);
    t.blocked_since = {};
  }
}

table_sync::StopReason PollEngine::refused(const PollTable& t, const RefusedRow& row) const {
  return table_sync::refused_value(
      row.error, row.key,
      fmt::format("restart pg2ch: {} is read again from its checkpoint ({}), so nothing after it is lost",
                  t.schema->qualified_source(), t.checkpoint ? t.checkpoint->watermark : std::string("its first row")));
}

void PollEngine::stop_table(PollTable& t, table_sync::StopReason why) {
  spdlog::error("table {} stopped: {} (fix: {}); the other tables go on", t.schema->qualified_source(), why.reason,
                why.fix);
  // Before anything else can persist a checkpoint: the windows' rows were discarded with the rest
  // of what the sink held of the table.
  sink_.discard(*t.schema);
  mark_stopped(t, std::move(why));
}

void PollEngine::mark_stopped(PollTable& t, table_sync::StopReason why) {
  t.windows = WindowQueue{};
  t.cursor = t.checkpoint;
  t.caught_up = true;
  t.stopped = true;
  states_.stop(*t.schema, std::move(why.reason), std::move(why.fix));
}

bool PollEngine::stop_refused(const pipeline::TableSchema& table, const Error& error) {
  if (!table_sync::stops_only_its_table(error)) return false;
  const auto it = std::find_if(tables_.begin(), tables_.end(), [&](const auto& t) { return t->schema == &table; });
  if (it == tables_.end()) return false;
  PollTable& t = **it;
  auto why = table_sync::refused_insert(
      table, error,
      fmt::format("restart pg2ch or run `pg2ch resync {}`: it is read again from its checkpoint ({}), so nothing "
                  "after it is lost",
                  table.qualified_source(), t.checkpoint ? t.checkpoint->watermark : std::string("its first row")));
  spdlog::error("table {} stopped: {} (fix: {}); the other tables go on", table.qualified_source(), why.reason,
                why.fix);
  mark_stopped(t, std::move(why));
  return true;
}

void PollEngine::persist_checkpoints() {
  const auto durable = sink_.durable_position();
  std::map<std::string, std::string> updates;
  for (auto& t : tables_) {
    auto c = t->windows.take_checkpoint(durable);
    if (!c || c == t->checkpoint) continue;
    t->checkpoint = c;
    updates[t->state_key] = encode_checkpoint(t->keyset.order.front().name, *c);
  }
  if (!updates.empty()) state_.put(updates);
}

void PollEngine::maintain(const std::atomic<bool>& stop) {
  for (auto& t : tables_) {
    if (!t->stopped) close_windows(*t, stop);
  }
  sink_.poll();
  persist_checkpoints();
}

std::size_t PollEngine::catch_up(const std::vector<std::size_t>& which, const std::atomic<bool>& stop) {
  std::vector<PollTable*> selected;
  if (which.empty()) {
    for (auto& t : tables_) selected.push_back(t.get());
  } else {
    for (auto i : which) selected.push_back(tables_.at(i).get());
  }
  std::erase_if(selected, [](const PollTable* t) { return t->stopped; });
  for (auto* t : selected) t->caught_up = false;
  std::size_t rows = 0;
  bool more = true;
  // One page per table per round, so a large table does not hold the others back.
  while (more && !stop.load()) {
    if (alive_) alive_();
    more = false;
    for (auto* t : selected) {
      if (t->caught_up || stop.load()) continue;
      rows += read_fresh_page(*t);
      more = more || !t->caught_up;
    }
    maintain(stop);
  }
  // Nothing more at the source for now: the sink may flush on its short idle delay.
  if (!stop.load()) sink_.source_idle(position_);
  return rows;
}

bool PollEngine::windows_pending() const {
  for (const auto& t : tables_) {
    if (t->windows.has_pending()) return true;
  }
  return false;
}

bool PollEngine::finished() const {
  for (const auto& t : tables_) {
    if (!t->caught_up || t->windows.has_pending() || t->windows.has_closed()) return false;
  }
  const auto durable = sink_.durable_position();
  return position_ == 0 || (durable && *durable >= position_);
}

std::optional<std::chrono::milliseconds> PollEngine::sink_poll() {
  auto next = sink_.poll();
  persist_checkpoints();
  return next;
}

void PollEngine::flush() {
  sink_.flush();
  persist_checkpoints();
}

}  // namespace pg2ch::capture::poll
