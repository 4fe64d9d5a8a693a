#pragma once
// The parts a started poll or notify pipeline holds, built in place in dependency order: the
// engine reads through the source connection and writes to the sink and the state store, so
// none of them may move after it is made.
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "capture/capture_mode.h"
#include "capture/logical/schema_evolution.h"
#include "capture/poll/poll_engine.h"
#include "capture/shared/attached_partitions.h"
#include "capture/shared/column_watch.h"
#include "capture/shared/dropped_table.h"
#include "capture/shared/new_tables.h"
#include "capture/table_sync/table_states.h"
#include "capture/poll/watermark_source.h"
#include "config/config.h"
#include "pg/current_row_fetcher.h"
#include "pipeline/change_sink.h"
#include "pipeline/make_change_sink.h"
#include "state/open_state_store.h"
#include "state/state_store.h"

namespace pg2ch::capture::poll {

struct WatermarkPipeline {
  // Targets are ensured by the caller before (they may need the source's tables only).
  WatermarkPipeline(const config::Config& cfg, WatermarkSource source, const RunOptions& options)
      : cfg(cfg),
        s(std::move(source)),
        state(state::open_state_store(cfg)),
        sink(pipeline::make_change_sink(cfg, nullptr, options.observer)),
        states(*state, s.p.table_ptrs()),
        fetcher(s.p.source),
        evolver(cfg, s.p, states, *sink, fetcher),
        engine(cfg, s.p.source, s.p.table_ptrs(), std::move(s.keysets), *sink, *state,
               table_sync::observe_states(states, options.observer)) {
    engine.set_alive(options.on_alive);
    engine.watch_columns(columns);
    engine.follow_columns([this](const pipeline::TableSchema& t) -> std::optional<std::string> {
      const logical::Evolution e = evolver.follow_catalog(t);
      // A table the ALTER rewrote (a volatile default, CopyAgain) stops too: its rows are read
      // again from the first one into a re-created target at the next start, as for any table
      // stopped by a change of its columns.
      if (e.outcome == logical::Evolution::Outcome::Followed) return std::nullopt;
      return e.why;
    });
    engine.forget_dropped([this](const pipeline::TableSchema& t) {
      if (!drops_dropped_table(this->cfg, s.p.source, t)) return false;
      drop_target_of_dropped(*s.p.targets, t);
      states.forget(t);
      return true;
    });
  }

  // `pg2ch resync` while running, looked for every few seconds (take_resync_requests): the
  // indexes of the tables to read again from their first row now.
  std::vector<std::size_t> resync_requests() {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_resync_check_) return {};
    next_resync_check_ = now + std::chrono::seconds(2);
    return take_resync_requests(s, *state, engine);
  }

  // Tables created under a `schema.*` entry while running (capture/shared/new_tables.h), looked for
  // every few seconds: each gets its target (an existing one emptied: it holds an earlier table's
  // rows), `before_copy` (notify installs its trigger there, so every write after it notifies)
  // and is read from its first row, as at a first start (its copy), then streamed. Returns the
  // engine indexes of the tables that joined. One that cannot be replicated (no key, no watermark
  // column, a target that differs) is left out, saying why once.
  std::vector<std::size_t> join_new_tables(const std::function<void(const pg::TableRef&)>& before_copy = {});

  // Partitioned tables that had a partition attached (capture/shared/attached_partitions.h), also
  // while pg2ch was not running: each is read again from its first row into its emptied target,
  // as `pg2ch resync` does; returns their engine indexes.
  std::vector<std::size_t> read_attached_again();

  const config::Config& cfg;
  WatermarkSource s;
  std::unique_ptr<state::StateStore> state;
  std::unique_ptr<pipeline::ChangeSink> sink;
  table_sync::TableStates states;
  ColumnWatch columns{s.p};
  pg::PgCurrentRowFetcher fetcher;    // the evolver forgets statements here (poll makes none)
  logical::SchemaEvolver evolver;     // follows changed columns in place (poll_engine.h)
  PollEngine engine;
  NewTables found{cfg, s.p};
  AttachedPartitions attached{s.p.source, *state};
  std::chrono::steady_clock::time_point next_resync_check_{};
};

}  // namespace pg2ch::capture::poll
