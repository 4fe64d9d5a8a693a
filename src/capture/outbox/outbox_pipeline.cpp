#include "config/table_name.h"
#include "capture/outbox/outbox_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <iostream>
#include <set>
#include <thread>

#include "capture/outbox/outbox_copy.h"
#include "capture/logical/ignored_changes.h"
#include "capture/logical/offline_changes.h"
#include "capture/logical/schema_evolution.h"
#include "capture/outbox/outbox_drainer.h"
#include "pg/current_row_fetcher.h"
#include "capture/outbox/outbox_objects.h"
#include "capture/outbox/outbox_sql.h"
#include "capture/outbox/partition_copies.h"
#include "capture/outbox/row_payload_follow.h"
#include "capture/shared/attached_partitions.h"
#include "capture/shared/new_tables.h"
#include "capture/shared/source_tables.h"
#include "clickhouse/target_table.h"
#include "common/crash_point.h"
#include "common/interruptible_sleep.h"
#include "pipeline/make_change_sink.h"
#include "state/open_state_store.h"

namespace pg2ch::capture::outbox {

namespace {

OutboxLayout layout_of(const config::Config& cfg) {
  return {payload_of(cfg.outbox), trigger_level_of(cfg.outbox)};
}

// Checked before the tables are described: the events table's own columns (xid8) would
// otherwise fail first with a message that hides the real mistake.
void refuse_capturing_the_queue(const config::Config& cfg, const OutboxNames& names) {
  for (const auto& sel : cfg.tables) {
    for (const auto& own : {names.events, names.truncates, names.progress}) {
      const auto name = config::parse_table_name(sel.pattern);
      if (!name || name->schema != names.schema || (!name->wildcard && name->table != own)) continue;
      throw Error(
          ErrorKind::Config,
          fmt::format("[[tables]] name = \"{}\" selects the outbox's own table {}.{}", sel.pattern, names.schema, own),
          "list the application's tables instead: a trigger on the events table would fire on its own "
          "inserts");
    }
  }
}

}  // namespace

void setup(const config::Config& cfg) {
  const OutboxNames names = outbox_names(cfg);
  refuse_capturing_the_queue(cfg, names);
  SourceTables p = open_source_tables(cfg);
  ensure_targets(p);
  install(p.source, names, p.table_ptrs(), layout_of(cfg));
  std::cout << fmt::format(
      "pg2ch setup: {} table(s) captured into {} (payload {}, {} triggers), ClickHouse database {}\n", p.tables.size(),
      names.events_table(), cfg.outbox.payload, cfg.outbox.triggers, cfg.clickhouse.database);
  for (const auto& t : p.tables) {
    std::cout << fmt::format("  {} -> {}.{} (view {}), triggers pg2ch_{}_*\n", t->qualified_source(),
                             cfg.clickhouse.database, t->target_name, clickhouse::current_view_name(*t), names.tag);
  }
  print_setup_notes(p, std::cout);
  std::cout << "Changes from now on are queued; the rows that exist now are copied by `pg2ch run` before it drains "
               "the first event.\n";
}

namespace {

class OutboxSource final : public ChangeSource {
 public:
  OutboxSource(const config::Config& cfg, SourceTables tables, const OutboxNames& names, const RunOptions& options)
      : cfg_(cfg),
        names_(names),
        options_(options),
        p_(std::move(tables)),
        sink_(pipeline::make_change_sink(cfg, nullptr, options.observer)),
        state_(state::open_state_store(cfg)),
        states_(*state_, p_.table_ptrs()),
        drainer_(p_.source, names, payload_of(cfg.outbox), p_.table_ptrs(), *sink_, cfg.outbox.batch_size,
                 table_sync::observe_states(states_, options.observer)),
        stop_when_caught_up_(options.stop_when_caught_up) {
    drainer_.watch_columns(columns_);
    // Copy requests (partition_copies.h): the copy of a running pipeline, after the drain
    // transaction that marked the table copying committed, exact by the same argument as at a
    // start (outbox_copy.h); this drainer's other events wait meanwhile.
    drainer_.copy_again_with(
        [this](const pipeline::TableSchema& t, Lsn requests_upto, const std::function<void()>& confirm) {
          static const std::atomic<bool> never{false};
          const std::atomic<bool>& stop = stop_ ? *stop_ : never;
          const CopyRequests requests{requests_upto, confirm};
          copy_tables(cfg_, p_, {&t}, states_, *state_, *sink_, stop, options_, /*targets_created=*/false, &requests);
          return !stop.load();
        },
        // A stopped table may have stopped for columns this run's description no longer matches:
        // its copy waits for the next start, which describes it again. The resync request makes
        // that copy whole, from a snapshot holding the changes of the events and requests the
        // drainer deletes now; through Kafka it begins with a TRUNCATE (capture/shared/copy_truncate.h),
        // which drops what the deleted events and the partition leave consumers.
        [this](const pipeline::TableSchema& t) {
          table_sync::request_resync(*state_, std::vector<const pipeline::TableSchema*>{&t});
          spdlog::warn("{}: a partition of it was truncated, attached, detached or dropped while it is stopped: it is "
                       "copied again at the next start (restart pg2ch)",
                       t.qualified_source());
        });
    // The key payload fetches rows as they are now: a change is followed in place. So does the
    // row payload: the events whose rows were not written for the table's columns as they are
    // now are read from the table (row_payload_follow.h).
    drainer_.follow_columns([this, names](const pipeline::TableSchema& t) -> std::optional<std::string> {
      if (payload_of(cfg_.outbox) == Payload::Row) {
        if (auto why_not = refused_for_row_payload(t)) return why_not;
      }
      const auto functions = function_ddl(names, t, layout_of(cfg_));
      const logical::Evolution e = evolver_.follow_catalog(t);
      if (e.outcome != logical::Evolution::Outcome::Followed) return e.why;
      if (function_ddl(names, t, layout_of(cfg_)) != functions) replace_functions_of(t);
      return std::nullopt;
    });
  }

  Turn turn(std::chrono::milliseconds max_wait, const std::atomic<bool>& stop) override {
    stop_ = &stop;
    join_new_tables(stop);
    watch_partitions();
    copy_requested_tables(stop);
    if (stop.load()) return Turn::More;
    // An idle queue is claimed again after outbox.interval, however often the loop turns.
    const auto now = std::chrono::steady_clock::now();
    if (now < next_drain_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_drain_ - now);
      sleep_unless_stopped(std::min(left + std::chrono::milliseconds(1), max_wait), stop);
      return Turn::More;
    }
    const auto outcome = drainer_.drain_once();
    if (outcome == OutboxDrainer::Outcome::Drained) return Turn::More;
    if (outcome == OutboxDrainer::Outcome::Empty && stop_when_caught_up_) return Turn::CaughtUp;
    next_drain_ = std::chrono::steady_clock::now() + cfg_.outbox.interval;
    return Turn::More;
  }
  void finish() override { sink_->flush(); }

  // Before the first drain: copies what needs a copy (outbox_copy.h), then every other table
  // streams (a stopped one is tried again: its events wait in the queue). False when stopped.
  bool start(const OutboxNames& names, const std::atomic<bool>& stop, const RunOptions& options,
             const std::vector<const pipeline::TableSchema*>& created) {
    const bool drained_before =
        p_.source
            .query(fmt::format("SELECT count(*) > 0 FROM {} WHERE pipeline = $1 AND events_drained > 0",
                               names.progress_table()),
                   {cfg_.name})
            .boolean(0, 0);
    auto copy = tables_to_copy(states_, *state_, drained_before);
    // A target gone while its table streamed (dropped under the pipeline, whose retry lands here,
    // or while it was stopped) is created empty: its rows are copied again, or they stay missing.
    for (const auto* t : created) {
      const auto phase = states_.phase(*t);
      if (phase == table_sync::TablePhase::Init || phase == table_sync::TablePhase::Stopped) continue;
      if (std::find(copy.begin(), copy.end(), t) != copy.end()) continue;
      spdlog::warn("the target of {} was missing: copying the table again", t->qualified_source());
      copy.push_back(t);
    }
    copy_tables(cfg_, p_, copy, states_, *state_, *sink_, stop, options, !created.empty(), nullptr,
                delivered_);
    if (stop.load()) return false;
    std::vector<const pipeline::TableSchema*> streaming;
    for (const auto* t : states_.tables()) {
      const auto& recorded = states_.at(*t);
      if (recorded.phase == table_sync::TablePhase::Stopped) {
        spdlog::warn("{}: stopped in an earlier run ({}); applying its queued events again", t->qualified_source(),
                     recorded.reason);
      }
      if (recorded.phase != table_sync::TablePhase::Streaming || states_.changed_since_recorded(*t)) {
        streaming.push_back(t);
      }
    }
    if (!streaming.empty()) states_.set(streaming, table_sync::TablePhase::Streaming);
    drainer_.update_stopped_rels();
    return true;
  }
  pipeline::ChangeSink& sink() override { return *sink_; }

  // Why the row payload cannot follow the change of `t`'s columns (row_payload_follow.h), if so.
  // A table the catalog cannot describe is the follower's to refuse.
  std::optional<std::string> refused_for_row_payload(const pipeline::TableSchema& t) {
    const auto ref = std::find_if(p_.refs.begin(), p_.refs.end(), [&](const auto& r) { return r.oid == t.relation_oid; });
    if (ref == p_.refs.end()) return std::nullopt;
    std::optional<pipeline::TableSchema> now;
    try {
      now = pg::describe_table(p_.source, *ref, p_.targets->type_capabilities(), p_.describe_options);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Config && e.kind() != ErrorKind::Schema) throw;
      return std::nullopt;
    }
    // With what logical.on_* = "ignore" kept before, as `t` has it: a column added and ignored is
    // left out of both, not one "renamed out of the exclude list".
    logical::apply_ignored(*now, states_.at(t).ignored, p_.targets->type_capabilities());
    return row_payload_refusal(t, *now);
  }
  // The trigger functions of `t` generated for its columns as they are now. Until then the old ones
  // take their fallback for what they name that changed (outbox_sql.cpp trigger_body), and the
  // rows they write carry the mark of the old columns, so they are read from the table (outbox_sql.h
  // row_mark). On a
  // connection of its own: the drain transaction that follows the change commits only after
  // ClickHouse accepted its batch, and a failed one must not leave the functions behind the
  // table's recorded columns. Not fatal: the fallback keeps the events exact, and the next start
  // replaces them (verify_installed).
  void replace_functions_of(const pipeline::TableSchema& t) {
    try {
      pg::Connection conn = connect_source(cfg_);
      replace_functions(conn, names_, t, layout_of(cfg_));
      spdlog::info("{}: replaced its outbox trigger functions for its new columns", t.qualified_source());
      crash_point("outbox_functions_replaced");  // tests: the batch that follows the change not drained
    } catch (const Error& e) {
      spdlog::warn("{}: could not replace its outbox trigger functions for its new columns ({}); their events are "
                   "read from the table until the next start or `pg2ch setup` replaces them",
                   t.qualified_source(), e.one_line());
    }
  }
  std::string progress() const override {
    const auto& s = drainer_.stats();
    return fmt::format("{} events in {} batches ({} truncates, {} copies again, {} claims yielded to another drainer)",
                       s.events, s.batches, s.truncates, s.copies, s.blocked);
  }

 private:
  // Tables created under a `schema.*` entry while running (capture/shared/new_tables.h): target,
  // triggers, then the copy from a snapshot taken after them (outbox_copy.h, so exact as at a
  // start), then its events are drained. The copy runs on the loop's thread: the other tables'
  // events wait in the queue meanwhile. A stop during the copy leaves the table copying, and the
  // next start copies the ranges left.
  void join_new_tables(const std::atomic<bool>& stop) {
    for (const auto& ref : found_.due()) {
      const auto* t = found_.join(
          ref,
          [&](const pipeline::TableSchema& table) {
            p_.targets->ensure(std::vector<const pipeline::TableSchema*>{&table});
            install_triggers(p_.source, names_, {&table}, layout_of(cfg_));
          },
          "triggers installed, copying it; then its events are drained with the others'");
      if (!t) continue;
      states_.add(*t);
      drainer_.add_table(*t);
      copy_tables(cfg_, p_, {t}, states_, *state_, *sink_, stop, options_, /*targets_created=*/false,
                  nullptr, delivered_);
      drainer_.update_stopped_rels();
    }
  }

  // `pg2ch resync` beside the running drainer: the tables it names are copied again here, as a
  // start would copy them (outbox_copy.h: target emptied, then one snapshot, events after it
  // win), on the loop's thread between two drains, so no batch of theirs is in flight. The other
  // tables' events wait in the queue meanwhile. The request is erased once the table is marked
  // `copying`, so a stop or a kill during the copy leaves it `copying`: the next start resumes it.
  void copy_requested_tables(const std::atomic<bool>& stop) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_request_read_) return;
    next_request_read_ = now + kRequestCheckEvery;
    state_->refresh();
    std::vector<const pipeline::TableSchema*> requested;
    for (const auto* t : states_.tables()) {
      if (!state_->get(table_sync::resync_request_key(*t))) continue;
      // A stopped table may have stopped for columns this run's description no longer matches:
      // the start describes it again, re-creates its target if need be, and copies it.
      if (states_.phase(*t) == table_sync::TablePhase::Stopped) {
        if (resync_left_for_start_.insert(t).second) {
          spdlog::warn("resync of {} requested: it is stopped, so it is copied again at the next start (restart pg2ch)",
                       t->qualified_source());
        }
        continue;
      }
      spdlog::info("resync of {} requested: copying it again; the other tables' events wait in the queue meanwhile",
                   t->qualified_source());
      requested.push_back(t);
    }
    if (requested.empty()) return;
    p_.targets->ensure(requested);  // dropped by hand to be re-created
    copy_tables(cfg_, p_, requested, states_, *state_, *sink_, stop, options_, /*targets_created=*/false,
                nullptr, delivered_);
    drainer_.update_stopped_rels();
  }

  static constexpr auto kRequestCheckEvery = std::chrono::seconds(2);
  // Partitions attached, detached or dropped (capture/shared/attached_partitions.h), also while
  // pg2ch was not running: their rows came or went without events, so each queues a copy request
  // (partition_copies.h), in order with the events. A new partition first gets its TRUNCATE
  // trigger, so a TRUNCATE of an attached one after the request is seen too.
  void watch_partitions() {
    for (const auto& c : attached_.look(p_.table_ptrs())) {
      if (!c.created.empty() || !c.attached.empty()) {
        ensure_partition_truncate_triggers(p_.source, names_, {c.table}, /*refused_ok=*/true);
      }
      if (!c.gone.empty()) {
        spdlog::warn("{}: partition(s) {} detached or dropped: their rows left unseen, copying the table again",
                     c.table->qualified_source(), PartitionChanges::names(c.gone));
      }
      for (const auto* which : {&c.attached, &c.gone}) {
        for (const auto& [oid, name] : *which) request_copy(p_.source, names_, *c.table, oid);
      }
    }
    attached_.record();  // the requests are queued
  }

  const config::Config& cfg_;
  const OutboxNames names_;
  const RunOptions options_;
  SourceTables p_;
  std::unique_ptr<pipeline::ChangeSink> sink_;
  std::unique_ptr<state::StateStore> state_;
  table_sync::TableStates states_;
  ColumnWatch columns_{p_};
  pg::PgCurrentRowFetcher fetcher_{p_.source};  // the evolver forgets statements here (none made)
  logical::SchemaEvolver evolver_{cfg_, p_, states_, *sink_, fetcher_};
  OutboxDrainer drainer_;
  // Confirms a copy through the sink (outbox_copy.h) before its tables stream.
  const std::function<void()> delivered_ = [this] { drainer_.confirm_delivered("copy"); };
  NewTables found_{cfg_, p_};
  AttachedPartitions attached_{p_.source, *state_};
  const std::atomic<bool>* stop_ = nullptr;  // turn()'s, for the copies the drainer asks for
  const bool stop_when_caught_up_;
  std::chrono::steady_clock::time_point next_drain_{};
  std::chrono::steady_clock::time_point next_request_read_{};
  std::set<const pipeline::TableSchema*> resync_left_for_start_;
};

}  // namespace

namespace {

// verify_installed for the tables as their targets keep what logical.on_* = "ignore" left out
// (ignored_changes.h), as the running pipeline generated their functions: an added and ignored
// column is left out of them. One whose state recorded it before the functions were replaced
// (a crash in between) is behind, not installed for another config.
std::vector<const pipeline::TableSchema*> verify_installed_kept(const config::Config& cfg, SourceTables& p,
                                                                const OutboxNames& names) {
  auto store = state::open_state_store(cfg);
  const table_sync::TableStates states(*store, p.table_ptrs());
  logical::keep_ignored_changes(p.tables, states, *store, p.targets->type_capabilities());
  return verify_installed(p.source, names, p.table_ptrs(), layout_of(cfg), [&](const pipeline::TableSchema& t) {
    std::vector<std::string> out;
    for (const auto& i : states.at(t).ignored) {
      if (i.kind == "added") out.push_back(i.column);
    }
    return out;
  });
}

}  // namespace

std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>& stop,
                                   const RunOptions& options) {
  const OutboxNames names = outbox_names(cfg);
  refuse_capturing_the_queue(cfg, names);
  SourceTables p = open_source_tables(cfg);
  const auto behind = verify_installed_kept(cfg, p, names);
  try {
    p.source.exec(truncates_part_column_ddl(names));  // a queue set up by an older pg2ch
  } catch (const Error& e) {
    rethrow_with_context(e, fmt::format("adding column part to {} (run `pg2ch setup` as the owner of the outbox "
                                        "tables: it is idempotent)",
                                        names.truncates_table()));
  }
  // Partitions created while pg2ch was not running, or by an older pg2ch's setup, lack theirs.
  ensure_partition_truncate_triggers(p.source, names, p.table_ptrs(), /*refused_ok=*/true);
  {
    auto state = state::open_state_store(cfg);
    table_sync::TableStates states(*state, p.table_ptrs());
    // The copy's snapshot holds the changes of the queued events before it (their lower versions
    // lose to the copy's), and every change after it has an event of the new shape.
    const auto copy_again = [&](const pipeline::TableSchema& t, const std::string& why_not) {
      spdlog::warn("{}: its target cannot follow the change of its columns ({}); re-creating it and copying the table "
                   "again",
                   t.qualified_source(), why_not);
      p.targets->drop(t);
      table_sync::request_resync(*state, std::vector<const pipeline::TableSchema*>{&t});
    };
    // Changed while pg2ch was stopped: followed as while running (the row payload's queued
    // events of the old shape are read from the table: row_payload_follow.h).
    logical::follow_offline_changes(cfg, p, states, copy_again);
    logical::SchemaEvolver::reapply_all(p, states, copy_again);
  }
  // Until replaced, they take their fallback for what they name that changed (outbox_sql.cpp).
  for (const auto* t : behind) {
    replace_functions(p.source, names, *t, layout_of(cfg));
    spdlog::info("{}: replaced its outbox trigger functions, made for other columns (changed while pg2ch was not "
                 "running) or by another pg2ch version",
                 t->qualified_source());
  }
  const auto created = ensure_targets(p);
  spdlog::info("draining {} into ClickHouse database {} ({} table(s), batches of {})", names.events_table(),
               cfg.clickhouse.database, p.tables.size(), cfg.outbox.batch_size);
  auto source = std::make_unique<OutboxSource>(cfg, std::move(p), names, options);
  if (!source->start(names, stop, options, created)) return nullptr;
  return source;
}

StatusReport status(const config::Config& cfg) {
  SourceTables p = open_source_tables(cfg, MissingTables::Report);
  const OutboxNames names = outbox_names(cfg);
  StatusReport r = status_report(cfg, p);
  r.state = "draining";
  r.add("outbox", fmt::format("payload {}, {} triggers, queue {}", cfg.outbox.payload, cfg.outbox.triggers,
                              names.events_table()));
  try {
    const auto behind = verify_installed_kept(cfg, p, names);
    r.add("triggers", fmt::format("installed on {} table(s)", p.tables.size()));
    for (const auto* t : behind) {
      // The comment says this config made them: their body differs because the columns changed or
      // because another pg2ch version made them (an upgrade).
      r.notes.push_back(fmt::format("{}: its outbox trigger functions differ from what this pg2ch makes for its "
                                    "columns now (they changed, or pg2ch was upgraded); `run` replaces them at its start",
                                    t->qualified_source()));
    }
  } catch (const Error& e) {
    r.add("triggers", "NOT READY");
    r.attention.push_back("outbox triggers: " + e.one_line());
  }
  if (p.source.query("SELECT to_regclass($1) IS NOT NULL", {names.events_table()}).boolean(0, 0)) {
    // Events carry no time (a clock default costs every writing statement): their age is how far
    // the WAL has moved on since the oldest one.
    pg::Result q = p.source.query(
        fmt::format("SELECT count(*), coalesce(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), min(lsn)), 0)::bigint, "
                    "(SELECT count(*) FROM {}) FROM {}",
                    names.truncates_table(), names.events_table()));
    r.add("events_waiting", q.int64(0, 0));
    r.add("oldest_event_wal_bytes_ago", q.int64(0, 1));
    r.add("truncates_waiting", q.int64(0, 2));
    pg::Result pr = p.source.query(
        fmt::format("SELECT coalesce(last_lsn::text, '-'), events_drained, updated_at FROM {} WHERE pipeline = $1",
                    names.progress_table()),
        {cfg.name});
    if (pr.rows() > 0) {
      r.add("events_drained", pr.int64(0, 1));
      r.add("last_version_lsn", pr.text(0, 0));
      r.add("last_drained_at", pr.text(0, 2));
    } else {
      r.add("events_drained", std::int64_t{0});
    }
  }
  report_detaching_partitions(p.source, p.table_ptrs(), r);
  table_sync::report_states(table_sync::TableStates(*state::open_state_store(cfg), p.table_ptrs()), r);
  return r;
}

void resync(const config::Config& cfg, const std::vector<std::string>& names) {
  SourceTables p = open_source_tables(cfg);
  const auto chosen = p.named(names, cfg);
  table_sync::request_resync(*state::open_state_store(cfg), chosen);
  for (const auto* t : chosen) {
    std::cout << fmt::format("{} will be copied again (its target emptied first, its queued events applied after) "
                             "by pipeline {}: within seconds if it runs, else when it starts\n",
                             t->qualified_source(), cfg.name);
  }
}

void teardown(const config::Config& cfg, bool drop_targets) {
  pg::Connection source = connect_source(cfg);
  const OutboxNames names = outbox_names(cfg);
  const RemoveResult r = remove(source, names);
  std::cout << fmt::format("dropped {} outbox trigger function(s) of pipeline {} with their triggers\n", r.functions,
                           cfg.name);
  if (r.dropped_queue) {
    std::cout << fmt::format("dropped {}, {} and {}\n", names.events_table(), names.truncates_table(),
                             names.progress_table());
  } else {
    std::cout << fmt::format("kept {}: another pipeline's triggers still write into it\n", names.events_table());
  }
  SourceTables p = open_source_tables(cfg);
  table_sync::forget_states(*state::open_state_store(cfg), p.table_ptrs());
  if (!drop_targets) return;
  capture::drop_targets(p);
}

}  // namespace pg2ch::capture::outbox
