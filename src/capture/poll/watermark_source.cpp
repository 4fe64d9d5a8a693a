#include "capture/poll/watermark_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <map>

#include "capture/logical/offline_changes.h"
#include "capture/logical/schema_evolution.h"
#include "capture/poll/cursor.h"
#include "capture/poll/horizon_probe.h"
#include "capture/poll/poll_engine.h"
#include "capture/table_sync/table_states.h"
#include "state/open_state_store.h"

namespace pg2ch::capture::poll {

namespace {

bool index_starts_with(pg::Connection& conn, std::uint32_t relation, const std::string& column) {
  return conn
      .query("SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a"
             "  ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
             " WHERE i.indrelid = $1::oid AND a.attname = $2 AND i.indisvalid)",
             {std::to_string(relation), column})
      .boolean(0, 0);
}

std::string index_suggestion(const Keyset& k) {
  std::string cols;
  for (const auto& c : k.order) cols += (cols.empty() ? "" : ", ") + quote_pg_identifier(c.name);
  return fmt::format("CREATE INDEX ON {} ({})", k.from, cols);
}

}  // namespace

WatermarkSource open_watermark_source(const config::Config& cfg, bool warn_missing_index, MissingTables missing) {
  WatermarkSource s{open_source_tables(cfg, missing), {}};
  for (std::size_t i = 0; i < s.p.tables.size(); ++i) {
    const auto& t = *s.p.tables[i];
    const std::string column = watermark_column(cfg, s.p.refs[i]);
    s.keysets.push_back(make_keyset(t, column));
    if (warn_missing_index && !index_starts_with(s.p.source, t.relation_oid, column)) {
      spdlog::warn("{}: no index starts with watermark column {}, so every poll scans the whole table ({})",
                   t.qualified_source(), column, index_suggestion(s.keysets.back()));
    }
  }
  return s;
}

StatusReport watermark_status(const config::Config& cfg, WatermarkSource& s, state::StateStore& state) {
  StatusReport r = status_report(cfg, s.p);
  r.state = "watermark polling";
  r.add("state store", state.describe());
  if (cfg.mode == "notify") {
    r.add("capture", fmt::format("LISTEN {} (triggers in schema {}), fallback poll every {} ms, {} rows per page",
                                 cfg.notify.channel, cfg.notify.trigger_schema, cfg.poll.interval.count(),
                                 cfg.poll.batch_size));
  } else {
    r.add("capture", fmt::format("poll every {} ms once caught up, {} rows per page", cfg.poll.interval.count(),
                                 cfg.poll.batch_size));
  }
  const bool sees_all = role_sees_all_transactions(s.p.source);
  const std::string user = s.p.source.query("SELECT current_user").text(0, 0);
  r.add("horizon", HorizonProbe::describe(sees_all, user));
  r.notes.push_back("deletes NOT captured: rows deleted at the source stay in ClickHouse in this mode; use mode = "
                    "\"outbox\" (or \"logical\") to capture deletes");
  for (std::size_t i = 0; i < s.p.tables.size(); ++i) {
    const auto& t = *s.p.tables[i];
    std::string where = "watermark " + s.keysets[i].order.front().name + ", not started (reads from the first row)";
    if (auto stored = state.get(checkpoint_key(t))) {
      if (auto c = decode_checkpoint(*stored)) where = fmt::format("checkpoint {} = {}", c->column, c->cursor.watermark);
    }
    r.tables[i].position = where;
  }
  table_sync::report_states(table_sync::TableStates(state, s.p.table_ptrs()), r);
  return r;
}

void erase_checkpoints(WatermarkSource& s, state::StateStore& state) {
  for (const auto& t : s.p.tables) state.erase(checkpoint_key(*t));
  table_sync::forget_states(state, s.p.table_ptrs());
}

namespace {

std::string resync_key(const pipeline::TableSchema& t) { return "resync." + t.qualified_source(); }

}  // namespace

void request_resync(const config::Config& cfg, const std::vector<std::string>& tables) {
  WatermarkSource s = open_watermark_source(cfg, false);
  auto state = state::open_state_store(cfg);
  std::map<std::string, std::string> marks;
  for (const auto* t : s.p.named(tables, cfg)) marks[resync_key(*t)] = "requested";
  state->put(marks);
  for (const auto& name : tables) {
    std::cout << fmt::format("{} will be read again from its first row (its target emptied first): within seconds by "
                             "pipeline {} if it runs, else when it starts next\n",
                             name, cfg.name);
  }
}

void prepare_targets(const config::Config& cfg, WatermarkSource& s) {
  auto state = state::open_state_store(cfg);
  recreate_changed_stopped_tables(s, *state);
  reapply_column_changes(cfg, s, *state);
  // A target gone while its checkpoint says rows were written (dropped under the pipeline, whose
  // retry lands here, or while it was stopped) is created empty: reading on from the checkpoint
  // would leave every row before it missing for good.
  for (const auto* t : ensure_targets(s.p)) {
    if (!state->get(checkpoint_key(*t))) continue;
    spdlog::warn("{}: its target was missing and is created again: reading the table again from its first row",
                 t->qualified_source());
    state->erase(checkpoint_key(*t));
  }
  apply_resync_requests(s, *state);
}

void recreate_changed_stopped_tables(WatermarkSource& s, state::StateStore& state) {
  const table_sync::TableStates states(state, s.p.table_ptrs());
  for (const auto* t : states.in_phase(table_sync::TablePhase::Stopped)) {
    if (!states.changed_since_recorded(*t)) continue;
    spdlog::warn("{}: its config or columns changed since it stopped: re-creating its target and reading it again "
                 "from its first row",
                 t->qualified_source());
    // The checkpoint first: a crash after it reads from the first row into the old target, which
    // the next start re-creates (the state still says stopped, with the old digests).
    state.erase(checkpoint_key(*t));
    s.p.targets->drop(*t);
  }
}

void reapply_column_changes(const config::Config& cfg, WatermarkSource& s, state::StateStore& state) {
  table_sync::TableStates states(state, s.p.table_ptrs());
  const auto read_again = [&](const pipeline::TableSchema& t, const std::string& why_not) {
    spdlog::warn("{}: its target cannot follow the change of its columns ({}); re-creating it and reading the table "
                 "again from its first row",
                 t.qualified_source(), why_not);
    state.erase(checkpoint_key(t));
    s.p.targets->drop(t);
  };
  // Changed while pg2ch was stopped: followed as while running where it can be.
  logical::follow_offline_changes(cfg, s.p, states, read_again);
  logical::SchemaEvolver::reapply_all(s.p, states, read_again);
}

std::vector<std::size_t> take_resync_requests(WatermarkSource& s, state::StateStore& state, PollEngine& engine) {
  state.refresh();
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < s.p.tables.size(); ++i) {
    const auto& t = *s.p.tables[i];
    if (!state.get(resync_key(t))) continue;
    spdlog::warn("{}: resync: emptying its target and reading it again from its first row", t.qualified_source());
    engine.read_again(i);
    s.p.targets->truncate(t);
    state.erase(resync_key(t));
    out.push_back(i);
  }
  return out;
}

void apply_resync_requests(WatermarkSource& s, state::StateStore& state) {
  for (const auto& t : s.p.tables) {
    if (!state.get(resync_key(*t))) continue;
    spdlog::warn("{}: resync: emptying its target and reading it again from its first row", t->qualified_source());
    s.p.targets->truncate(*t);
    state.erase(checkpoint_key(*t));
    state.erase(resync_key(*t));
  }
}

}  // namespace pg2ch::capture::poll
