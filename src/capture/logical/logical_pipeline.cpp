#include "capture/logical/logical_pipeline.h"

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "capture/logical/anonymous_file.h"
#include "capture/logical/ignored_changes.h"
#include "capture/logical/logical_stream.h"
#include "capture/logical/online_resync.h"
#include "capture/logical/partition_watch.h"
#include "capture/logical/publication.h"
#include "capture/logical/replication_slot.h"
#include "capture/logical/schema_evolution.h"
#include "capture/logical/snapshot_progress.h"
#include "capture/logical/table_copy.h"
#include "capture/logical/table_discovery.h"
#include "capture/logical/table_gate.h"
#include "capture/shared/attached_partitions.h"
#include "capture/shared/source_tables.h"
#include "capture/table_sync/table_states.h"
#include "clickhouse/target_table.h"
#include "common/crash_point.h"
#include "pg/catalog.h"
#include "pg/current_row_fetcher.h"
#include "pg/transaction_visibility.h"
#include "pipeline/make_change_sink.h"
#include "state/open_state_store.h"

namespace pg2ch::capture::logical {

namespace {

constexpr const char* kStateKey = "logical.state";
constexpr const char* kSlotKey = "logical.slot";
// The consistent point of the slot this pipeline created, written right after CREATE_REPLICATION_SLOT
// returns: a slot of that name whose confirmed position is still exactly there was made by this
// pipeline and never streamed from, so it is safe to drop when its snapshot did not finish.
constexpr const char* kSlotCreatedAtKey = "logical.slot_created_at";
// A position the slot has never been confirmed past (StreamOptions::record_confirm_bound), written
// before each confirmation beyond it: a slot found past it was dropped and created again (or
// advanced) by someone else, and the changes in between are in no slot.
constexpr const char* kConfirmBoundKey = "logical.confirm_bound";
constexpr const char* kStateSnapshot = "snapshot";
constexpr const char* kStateStreaming = "streaming";

using Prepared = SourceTables;

Prepared prepare(const config::Config& cfg, bool create_objects) {
  Prepared p{open_source_tables(cfg)};
  pg::check_logical_prerequisites(p.source, p.refs);
  if (!create_objects) return p;
  as_written(cfg, p);  // the targets as the pipeline writes them are what setup checks
  ensure_targets(p);
  ensure_publication(p.source, cfg.logical.publication, p.refs);
  return p;
}

// The snapshot copied (whole, or resumed): every table catches up from the pipeline slot's
// consistent point, where its stream starts.
void snapshot_done(Prepared& p, state::StateStore& state, table_sync::TableStates& states, SnapshotProgress& progress,
                   const SnapshotResult& r, Lsn consistent_point) {
  spdlog::info("initial snapshot done: {} rows, {:.1f} MB in {:.2f} s ({:.0f} rows/s)", r.rows, r.bytes / 1e6,
               r.seconds, r.seconds > 0 ? r.rows / r.seconds : 0.0);
  states.set(p.table_ptrs(), table_sync::TablePhase::CatchingUp, consistent_point);
  stop_refused(states, r);
  state.put({{kStateKey, kStateStreaming}, {"logical.consistent_point", format_lsn(consistent_point)}});
  progress.clear();
  crash_point("copy_done");  // tests: the copy done, the partition watch not started
}

void take_snapshot(const config::Config& cfg, Prepared& p, pg::Connection& replication, state::StateStore& state,
                   table_sync::TableStates& states, pipeline::ChangeSink& sink, const std::atomic<bool>& stop,
                   const RunOptions& options) {
  SnapshotProgress progress(state);
  progress.clear();
  state.put({{kStateKey, kStateSnapshot}, {kSlotKey, cfg.logical.slot}});
  state.erase(kSlotCreatedAtKey);
  state.erase(kConfirmBoundKey);  // the bound of a slot gone: the new one starts past it
  states.set(p.table_ptrs(), table_sync::TablePhase::Copying);
  record_leaves_before_copy(p.source, state, p.table_ptrs());  // the partition watch's first look compares with these
  const auto created = create_slot_with_snapshot(replication, p.source, cfg.logical.slot, stop, options.on_alive);
  if (!created) return;  // stopped while waiting: the state stays "snapshot"
  const CreatedSlot& slot = *created;
  state.put({{kSlotCreatedAtKey, format_lsn(slot.consistent_point)}});
  // Empties the ClickHouse targets (sink "clickhouse" or "both"); a Kafka sink has nothing to empty.
  for (const auto& t : p.tables) p.targets->truncate(*t);
  // Consumers of a Kafka sink may hold rows of an earlier run on the topics (teardown, then setup
  // again; a copy that starts over after one cut short, whose rows deleted since would stay:
  // the fault suite found 76 such rows).
  empty_sink_consumers(sink, p.table_ptrs(), slot.consistent_point);
  // The ranges, recorded before the first is copied: a run after a kill copies only those not done.
  progress.start(p.source, p.table_ptrs(), resolve_workers(cfg),
                 max_range_blocks(p.source, cfg.logical.snapshot_range_mb));
  const SnapshotResult r = copy_tables(cfg, p.source, p.table_ptrs(), slot.snapshot_name, slot.consistent_point, sink,
                                       stop, options, &progress);
  // A copy cut short by a stop is not a snapshot: the next run resumes it.
  if (stop.load()) return;
  snapshot_done(p, state, states, progress, r, slot.consistent_point);
}

// An initial snapshot cut short whose copy can go on (snapshot_progress.h): the slot is the one
// it made, unmoved since (`slot_ours`), and its plan holds for the tables. Otherwise it starts over.
bool snapshot_resumable(const table_sync::TableStates& states, const SnapshotProgress& progress, bool slot_ours) {
  return slot_ours && progress.resumable(states, states.tables());
}

// Tables to copy again at this start: new ones (init), copies cut short (copying), resyncs asked
// for (online_resync.h: the request key outlives a phase overwritten meanwhile), and any whose
// config or columns changed since its state was recorded: a stopped one whose cause the operator
// fixed, or one altered while pg2ch was not running (its target no longer fits its columns, and
// the stream would first deliver rows of the old shape).
std::vector<const pipeline::TableSchema*> tables_to_copy(const table_sync::TableStates& states,
                                                         const state::StateStore& store) {
  std::vector<const pipeline::TableSchema*> out;
  for (const auto* t : states.tables()) {
    const auto phase = states.phase(*t);
    if (phase == table_sync::TablePhase::Init || phase == table_sync::TablePhase::Copying ||
        states.changed_since_recorded(*t) || store.get(table_sync::resync_request_key(*t))) {
      out.push_back(t);
    }
  }
  return out;
}

// A slot found where the snapshot has not finished: this pipeline's only when the state records
// its creation and the slot has not moved since. Anything else may be another consumer's slot
// (or one this pipeline created just before it was killed): never dropped, the operator decides.
bool own_unfinished_slot(const config::Config& cfg, const state::StateStore& state, const SlotInfo& slot) {
  const auto created_at = state.get(kSlotCreatedAtKey);
  return state.get(kSlotKey) == cfg.logical.slot && created_at && parse_lsn(*created_at) == slot.confirmed_flush_lsn;
}

// A streaming pipeline's slot confirmed past the bound it recorded was not moved by this pipeline.
void check_slot_not_moved(const config::Config& cfg, const state::StateStore& state, const SlotInfo& slot) {
  const auto bound = state.get(kConfirmBoundKey);
  if (!bound) return;  // a state from before the bound was recorded
  const auto recorded = parse_lsn(*bound);
  if (!recorded || slot.confirmed_flush_lsn <= *recorded) return;
  throw Error(ErrorKind::Schema,
              fmt::format("replication slot {} is confirmed up to {}, past {}, the furthest pipeline {} ever confirmed "
                          "({}): it was dropped and created again, or advanced, by someone else, so the changes in "
                          "between are in no slot",
                          cfg.logical.slot, format_lsn(slot.confirmed_flush_lsn), format_lsn(*recorded), cfg.name,
                          state.describe()),
              "the targets may miss changes: take a new snapshot (`pg2ch teardown`, or delete the state file and the "
              "slot, then `pg2ch run`), or check them with `pg2ch verify`");
}

void drop_own_unfinished_slot(const config::Config& cfg, pg::Connection& source, const state::StateStore& state,
                              const SlotInfo& slot) {
  if (!own_unfinished_slot(cfg, state, slot)) {
    const auto created_at = state.get(kSlotCreatedAtKey);
    throw Error(ErrorKind::Config,
                fmt::format("replication slot {} exists, but pipeline {} has no record of creating it ({} names {}): "
                            "pg2ch drops only slots it made",
                            cfg.logical.slot, cfg.name, state.describe(),
                            created_at ? "another position for it" : "no slot created"),
                fmt::format("if another consumer uses it, set logical.slot to a name of pg2ch's own; if a pg2ch "
                            "was killed right after creating it, drop it (SELECT pg_drop_replication_slot('{}')) "
                            "and run again",
                            cfg.logical.slot));
  }
  spdlog::warn("replication slot {} is left from an unfinished snapshot of this pipeline: starting over",
               cfg.logical.slot);
  drop_slot(source, cfg.logical.slot);
}

}  // namespace

void setup(const config::Config& cfg) {
  Prepared p = prepare(cfg, true);
  std::cout << fmt::format("pg2ch setup: {} table(s) ready in {}, publication {}\n", p.tables.size(),
                           p.targets->describe(), cfg.logical.publication);
  for (const auto& t : p.tables) {
    std::cout << fmt::format("  {} -> {}.{} (view {})\n", t->qualified_source(), cfg.clickhouse.database,
                             t->target_name, clickhouse::current_view_name(*t));
  }
  // The triggers of partitions (partition_watch.h) by the role that owns the tables; one a running
  // pipeline has not seen may have been attached with rows or truncated: its table is copied again.
  const auto fresh = ensure_truncate_triggers(p.source, p.table_ptrs());
  if (!fresh.empty()) {
    auto store = state::open_state_store(cfg);
    const bool streaming = store->get(kStateKey) == std::string(kStateStreaming);
    for (const auto& n : fresh) {
      std::cout << fmt::format("  TRUNCATE trigger {} put on partition {} of {}{}\n", kTriggerName, n.name,
                               n.table->qualified_source(), streaming ? " (the table is copied again)" : "");
      if (streaming) table_sync::request_resync(*store, std::vector<const pipeline::TableSchema*>{n.table});
    }
  }
  print_setup_notes(p, std::cout);
  std::cout << "The replication slot is created by `pg2ch run` together with the initial snapshot.\n";
}

namespace {

// A started pipeline. Members in dependency order: the stream uses the replication connection and
// the sink, the sink the fetcher, the fetcher the catalog connection (p.source); built in place
// so none of those references ever points at a moved-from object.
class LogicalSource final : public ChangeSource {
 public:
  LogicalSource(const config::Config& cfg, Prepared prepared, pipeline::PipelineObserver* observer)
      : cfg_(cfg),
        observer_(observer),
        p(std::move(prepared)),
        state(state::open_state_store(cfg)),
        states(*state, p.table_ptrs()),
        replication(connect_source(cfg, true)),
        fetcher(p.source),
        sink_(pipeline::make_change_sink(cfg, &fetcher, observer)),
        evolver_(cfg, p, states, *sink_, fetcher, /*copies_online=*/true),
        retained_wal_warn_bytes_(cfg.logical.retained_wal_warn_mb * 1000 * 1000) {
    table_sync::observe_states(states, observer);
    keep_ignored_changes();
  }

  void start(StreamOptions so) {
    slot_name_ = so.slot;
    publication_ = so.publication;
    gate_ = std::make_unique<TableGate>(
        states, [this](const pipeline::TableSchema& t, const pg::pgoutput::Relation& rel, Lsn position) {
          // The evolver reads the catalog, which must show at least what this transaction saw:
          // a NOT NULL dropped is in no Relation message, only there (transaction_visibility.h).
          if (stream_ && stream_->transaction_xid() != 0 &&
              !pg::wait_until_visible(p.source, stream_->transaction_xid(), std::chrono::seconds(2))) {
            spdlog::debug("transaction {} not visible after 2 s: the catalog is read as it is",
                          stream_->transaction_xid());
          }
          Evolution e = evolver_.evolve(t, rel, position);
          // Asked for durably before the stream moves past this Relation: a crash finds it again.
          if (e.outcome == Evolution::Outcome::CopyAgain) copy_again(t);
          return e;
        });
    so.on_partition_truncated = [this](const pipeline::TableSchema& t) { copy_again(t); };
    resync_ = std::make_unique<OnlineResync>(cfg_, p, *state, states, *gate_, *sink_, observer_);
    so.watcher = resync_.get();
    stream_ = std::make_unique<LogicalStream>(replication, *gate_, *sink_, std::move(so));
    resync_->set_stream(*stream_);
    discovery_ = std::make_unique<TableDiscovery>(cfg_, p, states, *gate_, *resync_, *sink_, publication_);
    partitions_ = std::make_unique<PartitionWatch>(
        p.source, [this] { return states.tables(); },
        [this](const pipeline::TableSchema& t, const std::string& why) {
          spdlog::info("{}: copying {} again", why, t.qualified_source());
          copy_again(t);
        },
        [this] { return sink_->durable_position(); }, *state);
    stream_->start();
  }

  Turn turn(std::chrono::milliseconds max_wait, const std::atomic<bool>& stop) override {
    const Turn t = stream_->turn(max_wait, stop);
    if (auto durable = sink_->durable_position()) gate_->on_durable(*durable);
    discovery_->poll();
    partitions_->poll();
    resync_->poll();
    return t;
  }
  void finish() override {
    resync_->cancel();
    stream_->finish();
  }
  pipeline::LagSample lag() override {
    pipeline::LagSample s;
    s.lag_seconds = stream_->lag_seconds();
    // A sample is not worth restarting the stream for: a failed query skips this one (if the
    // connection is really gone, the next current-row fetch says so).
    try {
      if (auto slot = find_slot(p.source, slot_name_)) {
        s.lag_bytes = slot->lag_bytes;
        s.retained_wal_bytes = slot->retained_bytes;
        s.wal_status = slot->wal_status;
        warn_if_retaining(*slot);
      }
      stop_unpublished_tables();
    } catch (const Error& e) {
      spdlog::warn("replication slot {}: reading its lag failed: {}", slot_name_, e.one_line());
    }
    return s;
  }
  pipeline::ChangeSink& sink() override { return *sink_; }
  // SchemaEvolver::reapply(): at start, before the targets are checked.
  std::optional<std::string> reapply(const pipeline::TableSchema& t) { return evolver_.reapply(t); }
  std::string progress() const override {
    const StreamStats& s = stream_->stats();
    return fmt::format("{} transactions, {} changes; confirmed {}", s.transactions, s.changes, format_lsn(s.confirmed));
  }

 private:
  const config::Config& cfg_;
  pipeline::PipelineObserver* observer_;

 public:
  Prepared p;
  std::unique_ptr<state::StateStore> state;
  table_sync::TableStates states;
  pg::Connection replication;
  pg::PgCurrentRowFetcher fetcher;

 private:
  std::unique_ptr<pipeline::ChangeSink> sink_;
  SchemaEvolver evolver_;
  std::int64_t retained_wal_warn_bytes_;
  std::unique_ptr<TableGate> gate_;
  // The stream tells the copies beside it of changes (StreamWatcher) and they send through it:
  // both are gone before the gate and sink they use; the copies first (they stop their threads).
  std::unique_ptr<LogicalStream> stream_;
  std::unique_ptr<OnlineResync> resync_;
  std::unique_ptr<TableDiscovery> discovery_;
  std::unique_ptr<PartitionWatch> partitions_;
  std::string slot_name_;

  // Changes of a table's columns left out of its target (logical.on_* = "ignore") stay left out
  // across starts (ignored_changes.h): put on the schema before anything compares it with its
  // state. Not on a table to be copied: the copy takes it as configured.
  void keep_ignored_changes() {
    logical::keep_ignored_changes(p.tables, states, *state, p.targets->type_capabilities());
  }

  // A table whose rows changed without the stream saying which (a partition truncated or
  // attached): asked for durably first (the next start copies it if this run cannot), then
  // copied while the others stream.
  void copy_again(const pipeline::TableSchema& t) {
    table_sync::request_resync(*state, std::vector<const pipeline::TableSchema*>{&t});
    resync_->copy(t);
  }
  std::string publication_;

  // Checked with the lag (every few seconds): a table dropped from the publication while pg2ch
  // streams is stopped, so status says so and the next start copies it again.
  void stop_unpublished_tables() {
    const auto published = published_tables(p.source, publication_);
    if (!published) return;
    for (const auto* t : states.tables()) {
      if (published->contains(t->relation_oid)) continue;
      if (TableDiscovery::current_name(p.source, t->relation_oid)) {
        gate_->stop_unpublished(*t, publication_);
      } else {
        discovery_->gone(*t);
      }
    }
  }
  std::chrono::steady_clock::time_point last_retained_warning_{};

  // The server keeps every WAL segment the slot has not confirmed: a stalled or slow pipeline
  // fills the source's disk. Said every few minutes while it lasts (the metric says it always).
  void warn_if_retaining(const SlotInfo& slot) {
    constexpr auto kEvery = std::chrono::minutes(5);
    if (retained_wal_warn_bytes_ <= 0 || slot.retained_bytes <= retained_wal_warn_bytes_) return;
    const auto now = std::chrono::steady_clock::now();
    if (last_retained_warning_ != std::chrono::steady_clock::time_point{} && now - last_retained_warning_ < kEvery) return;
    last_retained_warning_ = now;
    spdlog::warn("replication slot {} holds back {:.0f} MB of WAL on the source (logical.retained_wal_warn_mb = {}); "
                 "confirmed up to {}, the server is at {}: the source keeps that WAL until pg2ch catches up",
                 slot.name, slot.retained_bytes / 1e6, retained_wal_warn_bytes_ / 1000 / 1000,
                 format_lsn(slot.confirmed_flush_lsn), format_lsn(slot.current_wal_lsn));
  }
};

}  // namespace

std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>& stop,
                                   const RunOptions& options) {
  auto source = std::make_unique<LogicalSource>(cfg, prepare(cfg, false), options.observer);
  Prepared& p = source->p;
  state::StateStore& state = *source->state;
  table_sync::TableStates& states = source->states;
  const bool streaming = state.get(kStateKey) == std::string(kStateStreaming) &&
                         state.get(kSlotKey) == cfg.logical.slot;
  if (streaming && std::all_of(p.tables.begin(), p.tables.end(), [&](const auto& t) {
        return !state.get(table_sync::table_state_key(*t, "phase"));
      })) {
    // A state written before tables had states of their own: they all streamed.
    states.set(p.table_ptrs(), table_sync::TablePhase::Streaming);
  }
  // A table removed from the publication while pg2ch was not running (or that stopped for it):
  // its changes since are not in the slot. It is added back below only together with a copy.
  if (streaming) {
    if (const auto published = published_tables(p.source, cfg.logical.publication)) {
      std::vector<const pipeline::TableSchema*> out;
      bool copy_cut_short = false;
      for (const auto* t : p.table_ptrs()) {
        const auto phase = states.phase(*t);
        // A copy cut short resumes on the promise that the stream brings every change since its
        // first snapshot; a table out of the publication broke it, so that copy starts over.
        const bool copying = phase == table_sync::TablePhase::Copying;
        const bool was_streamed = copying || phase == table_sync::TablePhase::Streaming ||
                                  phase == table_sync::TablePhase::CatchingUp || phase == table_sync::TablePhase::Stopped;
        if (was_streamed && !published->contains(t->relation_oid)) {
          out.push_back(t);
          copy_cut_short = copy_cut_short || copying;
        }
      }
      if (copy_cut_short) SnapshotProgress(state, kCopyAgainProgress).clear();
      for (const auto* t : out) {
        spdlog::warn("table {} is not in publication {} (removed while pg2ch was not running, or it stopped for "
                     "that): the changes made meanwhile are not in the slot, so it is added again and copied again",
                     t->qualified_source(), cfg.logical.publication);
      }
      if (!out.empty()) states.set(out, table_sync::TablePhase::Init);
    }
  }
  // Before anything is created: a slot of this name that is not pg2ch's stops the start.
  auto existing = find_slot(p.source, cfg.logical.slot);
  if (existing) check_slot_usable(*existing, cfg.postgres.database);
  // Partitions new since the last run: trigger put on them (partition_watch.h). While pg2ch was not
  // running they may have been attached with rows, or truncated: their tables are copied again.
  for (const auto& n : ensure_truncate_triggers(p.source, p.table_ptrs())) {
    if (!streaming || states.phase(*n.table) == table_sync::TablePhase::Init) continue;
    spdlog::warn("partition {} of {} is new since pg2ch last ran (attached or truncated meanwhile, which the stream "
                 "does not show): copying the table again",
                 n.name, n.table->qualified_source());
    table_sync::request_resync(state, std::vector<const pipeline::TableSchema*>{n.table});
  }
  // Tables copied again at this start get their target (re-)created by the copy; a table whose
  // target went missing is copied again too.
  auto again = streaming ? tables_to_copy(states, state) : std::vector<const pipeline::TableSchema*>{};
  std::vector<const pipeline::TableSchema*> keep;
  for (const auto* t : p.table_ptrs()) {
    if (std::find(again.begin(), again.end(), t) != again.end()) continue;
    // An initial copy cut short, then the table altered before this start: its target was made
    // for the old columns and holds only part of a copy that starts over (SnapshotProgress::
    // resumable() says so), so it is re-created rather than refused.
    if (!streaming && states.phase(*t) == table_sync::TablePhase::Copying && states.target_made_for_other_columns(*t)) {
      spdlog::warn("table {}: its columns changed while its initial copy was cut short; re-creating its target for "
                   "the new columns",
                   t->qualified_source());
      p.targets->drop(*t);
    }
    // A crash between a change of its columns recorded and its target altered: altered now.
    if (auto why_not = streaming ? source->reapply(*t) : std::nullopt) {
      spdlog::warn("table {}: its target cannot be brought in line with the change of its columns recorded before a "
                   "crash ({}); re-creating it and copying the table again",
                   t->qualified_source(), *why_not);
      p.targets->drop(*t);
      again.push_back(t);
      continue;
    }
    keep.push_back(t);
  }
  const auto created = p.targets->ensure(keep).created;
  ensure_publication(p.source, cfg.logical.publication, p.refs);

  if (!streaming) {
    SnapshotProgress progress(state);
    // A target created at this start lost the rows of the ranges done: the copy starts over.
    if (existing && created.empty() &&
        snapshot_resumable(states, progress, own_unfinished_slot(cfg, state, *existing))) {
      if (const auto r = resume_snapshot(cfg, p, progress, existing->confirmed_flush_lsn, source->sink(), stop,
                                         options)) {
        snapshot_done(p, state, states, progress, *r, existing->confirmed_flush_lsn);
      }
    } else {
      if (existing) drop_own_unfinished_slot(cfg, p.source, state, *existing);
      take_snapshot(cfg, p, source->replication, state, states, source->sink(), stop, options);
    }
  } else if (!existing) {
    throw Error(ErrorKind::Schema,
                fmt::format("replication slot {} is gone although {} says the pipeline was streaming", cfg.logical.slot,
                            state.describe()),
                "changes made since may be missing: delete the state file and run again to take a fresh snapshot");
  } else {
    check_slot_not_moved(cfg, state, *existing);
    auto copy = again;
    for (const auto* t : created) {
      if (states.phase(*t) == table_sync::TablePhase::Stopped) continue;
      spdlog::warn("the target of {} was missing: copying the table again", t->qualified_source());
      copy.push_back(t);
    }
    copy_tables_again(cfg, p, copy, existing->confirmed_flush_lsn, source->sink(), states, state, created, stop,
                      options);
  }
  // The resyncs this start took are done (or the tables are copying, which the next start
  // finishes): a running pipeline must not take them again. Requests made meanwhile for other
  // tables stay for it.
  for (const auto* t : again) {
    if (state.get(table_sync::resync_request_key(*t))) state.erase(table_sync::resync_request_key(*t));
  }
  if (stop.load()) return nullptr;

  StreamOptions so;
  so.slot = cfg.logical.slot;
  so.publication = cfg.logical.publication;
  so.status_interval = cfg.logical.status_interval;
  so.record_confirm_bound = [&state](Lsn bound) { state.put({{kConfirmBoundKey, format_lsn(bound)}}); };
  // Streaming in-progress transactions needs protocol 2 (PostgreSQL 14); an older server
  // spills them on its side as before.
  so.streaming = cfg.logical.streaming && p.source.server_version() >= 140000;
  if (cfg.logical.streaming && !so.streaming) {
    spdlog::info("logical.streaming: PostgreSQL {} sends a transaction only after its commit (streaming in-progress "
                 "transactions needs 14 or newer)", p.source.server_version() / 10000);
  }
  so.spool_dir = spool_directory(cfg);
  if (options.stop_when_caught_up) {
    so.stop_at = parse_lsn(p.source.query("SELECT pg_current_wal_lsn()").text(0, 0)).value_or(kInvalidLsn);
  }
  source->start(std::move(so));
  return source;
}

StatusReport status(const config::Config& cfg) {
  Prepared p{open_source_tables(cfg, MissingTables::Report)};
  pg::check_logical_prerequisites(p.source, p.refs);
  auto state_store = state::open_state_store(cfg);
  state::StateStore& state = *state_store;
  StatusReport r = status_report(cfg, p);
  r.state = state.get(kStateKey).value_or("not started");
  table_sync::report_states(table_sync::TableStates(state, p.table_ptrs()), r);
  r.add("state store", state.describe());
  if (r.state == kStateSnapshot) {
    if (const auto copied = SnapshotProgress(state).describe_recorded()) r.add("snapshot", *copied);
  }
  report_detaching_partitions(p.source, p.table_ptrs(), r);
  r.add("publication", cfg.logical.publication);
  if (auto slot = find_slot(p.source, cfg.logical.slot)) {
    r.add("slot", fmt::format("{} {}", slot->name, slot->active ? "active" : "inactive"));
    r.add("confirmed_flush_lsn", format_lsn(slot->confirmed_flush_lsn));
    r.add("lag_bytes", slot->lag_bytes);
    r.add("wal_retained_bytes", slot->retained_bytes);
    r.add("wal_status", slot->wal_status);
    if (slot->wal_status == "lost" || slot->wal_status == "unreserved") {
      r.attention.push_back(fmt::format("replication slot {} has wal_status {}: the WAL it needs is (about to be) "
                                        "removed (max_slot_wal_keep_size)",
                                        slot->name, slot->wal_status));
    }
  } else {
    r.add("slot", fmt::format("{} does not exist (created by `pg2ch run`)", cfg.logical.slot));
    if (state.get(kStateKey) == std::string(kStateStreaming)) {
      r.attention.push_back(fmt::format("replication slot {} is gone although the pipeline was streaming",
                                        cfg.logical.slot));
    }
  }
  return r;
}

void as_written(const config::Config& cfg, SourceTables& p) {
  auto store = state::open_state_store(cfg);
  const table_sync::TableStates states(*store, p.table_ptrs());
  keep_ignored_changes(p.tables, states, *store, p.targets->type_capabilities());
}

void resync(const config::Config& cfg, const std::vector<std::string>& names) {
  Prepared p = prepare(cfg, false);
  auto state_store = state::open_state_store(cfg);
  const auto chosen = p.named(names, cfg);
  table_sync::request_resync(*state_store, chosen);
  for (const auto* t : chosen) {
    std::cout << fmt::format("{} will be copied again: within seconds by pipeline {} if it runs (the other tables "
                             "stream on meanwhile), else when it starts next\n",
                             t->qualified_source(), cfg.name);
  }
}

void teardown(const config::Config& cfg, bool drop_targets) {
  pg::Connection source = connect_source(cfg);
  auto state_store = state::open_state_store(cfg);
  state::StateStore& state = *state_store;
  if (auto slot = find_slot(source, cfg.logical.slot)) {
    check_slot_usable(*slot, cfg.postgres.database);
    if (state.get(kSlotKey) != cfg.logical.slot) {
      throw Error(ErrorKind::Config,
                  fmt::format("replication slot {} was not created by pipeline {} ({} does not name it): pg2ch drops "
                              "only slots it made",
                              cfg.logical.slot, cfg.name, state.describe()),
                  fmt::format("if it is this pipeline's and its state was lost, drop it by hand: SELECT "
                              "pg_drop_replication_slot('{}')",
                              cfg.logical.slot));
    }
    drop_slot(source, cfg.logical.slot);
  }
  drop_publication(source, cfg.logical.publication);
  state.erase(kStateKey);
  state.erase(kSlotKey);
  state.erase(kSlotCreatedAtKey);
  std::cout << fmt::format("dropped replication slot {} and publication {}\n", cfg.logical.slot, cfg.logical.publication);
  if (!drop_targets) return;
  Prepared p = prepare(cfg, false);
  capture::drop_targets(p);
}

}  // namespace pg2ch::capture::logical
