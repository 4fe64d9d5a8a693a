#include "capture/logical/logical_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>
#include <unordered_map>

#include "capture/logical/logical_stream.h"
#include "capture/logical/publication.h"
#include "capture/logical/replication_slot.h"
#include "capture/logical/snapshot_copier.h"
#include "capture/logical/snapshot_to_sink.h"
#include "capture/shared/source_tables.h"
#include "clickhouse/target_table.h"
#include "pg/catalog.h"
#include "pg/current_row_fetcher.h"
#include "pipeline/make_change_sink.h"
#include "state/open_state_store.h"

namespace pg2ch::capture::logical {

namespace {

constexpr const char* kStateKey = "logical.state";
constexpr const char* kSlotKey = "logical.slot";
constexpr const char* kStateSnapshot = "snapshot";
constexpr const char* kStateStreaming = "streaming";

struct Prepared : SourceTables {
  bool created_target = false;  // some table had no target before this start
};

Prepared prepare(const config::Config& cfg, bool create_objects) {
  Prepared p{open_source_tables(cfg)};
  pg::check_logical_prerequisites(p.source, p.refs);
  if (!create_objects) return p;
  p.created_target = ensure_targets(p);
  ensure_publication(p.source, cfg.logical.publication, p.refs);
  return p;
}

// pg_class.reltuples per table, for the copy's progress (an estimate: -1 when never analysed).
std::vector<std::pair<const pipeline::TableSchema*, std::int64_t>> row_estimates(Prepared& p) {
  std::vector<std::pair<const pipeline::TableSchema*, std::int64_t>> out;
  for (const auto& t : p.tables) {
    pg::Result r = p.source.query("SELECT reltuples::bigint FROM pg_class WHERE oid = $1",
                                  {std::to_string(t->relation_oid)});
    out.emplace_back(t.get(), r.rows() > 0 ? r.int64(0, 0) : -1);
  }
  return out;
}

void take_snapshot(const config::Config& cfg, Prepared& p, pg::Connection& replication, state::StateStore& state,
                   pipeline::ChangeSink& sink, const std::atomic<bool>& stop, const RunOptions& options) {
  const std::function<void()>& alive = options.on_alive;
  state.put({{kStateKey, kStateSnapshot}, {kSlotKey, cfg.logical.slot}});
  drop_slot(p.source, cfg.logical.slot);
  const auto created = create_slot_with_snapshot(replication, p.source, cfg.logical.slot, stop, alive);
  if (!created) return;  // stopped while waiting: the state stays "snapshot"
  const CreatedSlot& slot = *created;
  // Empties the ClickHouse targets (sink "clickhouse" or "both"); a Kafka sink has nothing to empty.
  for (const auto& t : p.tables) p.targets->truncate(*t);
  if (options.observer) options.observer->copy_started(row_estimates(p));
  struct CopyEnded {
    pipeline::PipelineObserver* observer;
    ~CopyEnded() {
      if (observer) observer->copy_finished();
    }
  } copy_ended{options.observer};
  SnapshotResult r;
  if (pipeline::BulkLoad* bulk = sink.bulk_load()) {
    SnapshotCopier copier(cfg, p.table_ptrs(), slot.snapshot_name, *bulk);
    r = copier.run(cfg.logical.snapshot_workers, stop, alive, options.observer);
  } else {
    // A sink without a bulk load (Kafka, "both") gets the existing rows as changes (Kafka: op
    // "r"), acknowledged like changes.
    // A producer never touches the consumers' ClickHouse: a snapshot taken again (state lost)
    // re-sends every row, but rows a consumer applied earlier at a higher version stay until a
    // resync of that table (docs/kafka.md).
    r = copy_snapshot_to_sink(cfg, p.table_ptrs(), slot.snapshot_name, slot.consistent_point, sink, stop, alive,
                              options.observer);
  }
  // A copy cut short by a stop is not a snapshot: the next run takes it again.
  if (stop.load()) return;
  spdlog::info("initial snapshot done: {} rows, {:.1f} MB in {:.2f} s ({:.0f} rows/s)", r.rows, r.bytes / 1e6,
               r.seconds, r.seconds > 0 ? r.rows / r.seconds : 0.0);
  state.put({{kStateKey, kStateStreaming}, {"logical.consistent_point", format_lsn(slot.consistent_point)}});
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
      : p(std::move(prepared)),
        state(state::open_state_store(cfg)),
        replication(connect_source(cfg, true)),
        fetcher(p.source),
        sink_(pipeline::make_change_sink(cfg, &fetcher, observer)) {}

  void start(StreamOptions so) {
    slot_name_ = so.slot;
    std::unordered_map<std::uint32_t, const pipeline::TableSchema*> by_oid;
    for (const auto& t : p.tables) by_oid.emplace(t->relation_oid, t.get());
    stream_ = std::make_unique<LogicalStream>(replication, std::move(by_oid), *sink_, std::move(so));
    stream_->start();
  }

  Turn turn(std::chrono::milliseconds max_wait, const std::atomic<bool>& stop) override {
    return stream_->turn(max_wait, stop);
  }
  void finish() override { stream_->finish(); }
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
      }
    } catch (const Error& e) {
      spdlog::warn("replication slot {}: reading its lag failed: {}", slot_name_, e.one_line());
    }
    return s;
  }
  pipeline::ChangeSink& sink() override { return *sink_; }
  std::string progress() const override {
    const StreamStats& s = stream_->stats();
    return fmt::format("{} transactions, {} changes; confirmed {}", s.transactions, s.changes, format_lsn(s.confirmed));
  }

  Prepared p;
  std::unique_ptr<state::StateStore> state;
  pg::Connection replication;
  pg::PgCurrentRowFetcher fetcher;

 private:
  std::unique_ptr<pipeline::ChangeSink> sink_;
  std::unique_ptr<LogicalStream> stream_;
  std::string slot_name_;
};

}  // namespace

std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>& stop,
                                   const RunOptions& options) {
  auto source = std::make_unique<LogicalSource>(cfg, prepare(cfg, true), options.observer);
  Prepared& p = source->p;
  state::StateStore& state = *source->state;
  const bool streaming = state.get(kStateKey) == std::string(kStateStreaming) &&
                         state.get(kSlotKey) == cfg.logical.slot;
  auto existing = find_slot(p.source, cfg.logical.slot);

  if (!streaming || p.created_target) {
    if (streaming) spdlog::warn("a ClickHouse target table was missing: taking the initial snapshot again");
    if (existing && !streaming) spdlog::warn("replication slot {} is left from an unfinished snapshot: starting over",
                                             cfg.logical.slot);
    take_snapshot(cfg, p, source->replication, state, source->sink(), stop, options);
  } else if (!existing) {
    throw Error(ErrorKind::Schema,
                fmt::format("replication slot {} is gone although {} says the pipeline was streaming", cfg.logical.slot,
                            state.describe()),
                "changes made since may be missing: delete the state file and run again to take a fresh snapshot");
  }
  if (stop.load()) return nullptr;

  StreamOptions so;
  so.slot = cfg.logical.slot;
  so.publication = cfg.logical.publication;
  so.status_interval = cfg.logical.status_interval;
  if (options.stop_when_caught_up) {
    so.stop_at = parse_lsn(p.source.query("SELECT pg_current_wal_lsn()").text(0, 0)).value_or(kInvalidLsn);
  }
  source->start(std::move(so));
  return source;
}

StatusReport status(const config::Config& cfg) {
  Prepared p = prepare(cfg, false);
  auto state_store = state::open_state_store(cfg);
  state::StateStore& state = *state_store;
  StatusReport r = status_report(cfg, p);
  r.state = state.get(kStateKey).value_or("not started");
  r.add("state store", state.describe());
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

void teardown(const config::Config& cfg, bool drop_targets) {
  pg::Connection source = connect_source(cfg);
  drop_slot(source, cfg.logical.slot);
  drop_publication(source, cfg.logical.publication);
  auto state_store = state::open_state_store(cfg);
  state::StateStore& state = *state_store;
  state.erase(kStateKey);
  state.erase(kSlotKey);
  std::cout << fmt::format("dropped replication slot {} and publication {}\n", cfg.logical.slot, cfg.logical.publication);
  if (!drop_targets) return;
  Prepared p = prepare(cfg, false);
  capture::drop_targets(p);
}

}  // namespace pg2ch::capture::logical
