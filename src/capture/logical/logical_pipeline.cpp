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
#include "clickhouse/http_client.h"
#include "clickhouse/target_table.h"
#include "pg/catalog.h"
#include "pg/current_row_fetcher.h"
#include "pipeline/clickhouse_change_sink.h"
#include "pipeline/clickhouse_endpoint.h"
#include "state/file_state_store.h"

namespace pg2ch::capture::logical {

namespace {

constexpr const char* kStateKey = "logical.state";
constexpr const char* kSlotKey = "logical.slot";
constexpr const char* kStateSnapshot = "snapshot";
constexpr const char* kStateStreaming = "streaming";

pg::Connection connect_source(const config::Config& cfg, bool replication = false) {
  return pg::Connection::connect(cfg.postgres.conninfo(replication),
                                 fmt::format("source PostgreSQL {}", cfg.postgres.describe()));
}

// Everything both sides must agree on before copying or streaming.
struct Prepared {
  pg::Connection source;
  std::unique_ptr<clickhouse::HttpClient> target;
  std::vector<pg::TableRef> refs;
  std::vector<std::unique_ptr<pipeline::TableSchema>> tables;
  bool created_target = false;  // some target table did not exist before

  std::vector<const pipeline::TableSchema*> table_ptrs() const {
    std::vector<const pipeline::TableSchema*> v;
    for (const auto& t : tables) v.push_back(t.get());
    return v;
  }
};

bool table_exists(clickhouse::HttpClient& ch, const std::string& db, const std::string& table) {
  const std::string r = ch.query(fmt::format("EXISTS TABLE {}.{}", clickhouse::quote_identifier(db),
                                             clickhouse::quote_identifier(table)));
  return !r.empty() && r[0] == '1';
}

Prepared prepare(const config::Config& cfg, bool create_objects) {
  Prepared p;
  p.source = connect_source(cfg);
  p.refs = pg::resolve_tables(p.source, cfg.tables);
  pg::check_logical_prerequisites(p.source, p.refs);

  auto endpoint = pipeline::clickhouse_endpoint(cfg);
  if (create_objects) {
    // The configured database may not exist yet; connect to "default" to create it.
    auto bootstrap = endpoint;
    bootstrap.database = "default";
    clickhouse::HttpClient(bootstrap).execute(
        fmt::format("CREATE DATABASE IF NOT EXISTS {}", clickhouse::quote_identifier(cfg.clickhouse.database)));
  }
  p.target = std::make_unique<clickhouse::HttpClient>(endpoint);
  const auto& caps = p.target->capabilities();
  for (const auto& ref : p.refs) {
    p.tables.push_back(std::make_unique<pipeline::TableSchema>(pg::describe_table(p.source, ref, caps)));
  }
  if (!create_objects) return p;

  for (const auto& t : p.tables) {
    if (!table_exists(*p.target, cfg.clickhouse.database, t->target_name)) {
      p.created_target = true;
      spdlog::info("creating ClickHouse table {}.{} for {}", cfg.clickhouse.database, t->target_name,
                   t->qualified_source());
    }
    p.target->execute(clickhouse::create_table_statement(cfg.clickhouse.database, *t, caps));
    for (const auto& sql : clickhouse::create_view_statements(cfg.clickhouse.database, *t, caps)) p.target->execute(sql);
    for (const auto& c : t->target_columns) {
      if (!c.mapping.note.empty()) spdlog::info("{}.{}: {}", t->qualified_source(), c.name, c.mapping.note);
    }
  }
  ensure_publication(p.source, cfg.logical.publication, p.refs);
  return p;
}

void take_snapshot(const config::Config& cfg, Prepared& p, pg::Connection& replication, state::StateStore& state,
                   const std::atomic<bool>& stop) {
  state.put({{kStateKey, kStateSnapshot}, {kSlotKey, cfg.logical.slot}});
  drop_slot(p.source, cfg.logical.slot);
  for (const auto& t : p.tables) p.target->execute(clickhouse::truncate_statement(cfg.clickhouse.database, *t));
  const CreatedSlot slot = create_slot_with_snapshot(replication, cfg.logical.slot);
  SnapshotCopier copier(cfg, p.table_ptrs(), slot.snapshot_name);
  const SnapshotResult r = copier.run(cfg.logical.snapshot_workers, stop);
  spdlog::info("initial snapshot done: {} rows, {:.1f} MB in {:.2f} s ({:.0f} rows/s)", r.rows, r.bytes / 1e6,
               r.seconds, r.seconds > 0 ? r.rows / r.seconds : 0.0);
  state.put({{kStateKey, kStateStreaming}, {"logical.consistent_point", format_lsn(slot.consistent_point)}});
}

}  // namespace

void setup(const config::Config& cfg) {
  Prepared p = prepare(cfg, true);
  std::cout << fmt::format("pg2ch setup: {} table(s) ready in ClickHouse database {}, publication {}\n", p.tables.size(),
                           cfg.clickhouse.database, cfg.logical.publication);
  for (const auto& t : p.tables) {
    std::cout << fmt::format("  {} -> {}.{} (view {})\n", t->qualified_source(), cfg.clickhouse.database,
                             t->target_name, clickhouse::current_view_name(*t));
  }
  std::cout << "The replication slot is created by `pg2ch run` together with the initial snapshot.\n";
}

void run(const config::Config& cfg, const std::atomic<bool>& stop, const RunOptions& options) {
  Prepared p = prepare(cfg, true);
  state::FileStateStore state(cfg.state.path);
  const bool streaming = state.get(kStateKey) == std::string(kStateStreaming) &&
                         state.get(kSlotKey) == cfg.logical.slot;
  auto existing = find_slot(p.source, cfg.logical.slot);
  pg::Connection replication = connect_source(cfg, true);

  if (!streaming || p.created_target) {
    if (streaming) spdlog::warn("a ClickHouse target table was missing: taking the initial snapshot again");
    if (existing && !streaming) spdlog::warn("replication slot {} is left from an unfinished snapshot: starting over",
                                             cfg.logical.slot);
    take_snapshot(cfg, p, replication, state, stop);
  } else if (!existing) {
    throw Error(ErrorKind::Schema,
                fmt::format("replication slot {} is gone although {} says the pipeline was streaming", cfg.logical.slot,
                            state.describe()),
                "changes made since may be missing: delete the state file and run again to take a fresh snapshot");
  }
  if (stop.load()) return;

  Lsn stop_at = kInvalidLsn;
  if (options.stop_when_caught_up) {
    stop_at = parse_lsn(p.source.query("SELECT pg_current_wal_lsn()").text(0, 0)).value_or(kInvalidLsn);
  }
  std::unordered_map<std::uint32_t, const pipeline::TableSchema*> by_oid;
  for (const auto& t : p.tables) by_oid.emplace(t->relation_oid, t.get());

  pg::PgCurrentRowFetcher fetcher(p.source);
  clickhouse::HttpClient sink_client(pipeline::clickhouse_endpoint(cfg));
  pipeline::ClickHouseChangeSink sink(sink_client, cfg.clickhouse.database, cfg.batch, &fetcher);
  StreamOptions so;
  so.slot = cfg.logical.slot;
  so.publication = cfg.logical.publication;
  so.status_interval = cfg.logical.status_interval;
  so.stop_at = stop_at;
  LogicalStream stream(replication, std::move(by_oid), sink, so);
  stream.run(stop);
  spdlog::info("stopped: {} transactions, {} changes, {} rows in {} inserts; confirmed {}", stream.stats().transactions,
               stream.stats().changes, sink.stats().rows_written, sink.stats().inserts,
               format_lsn(stream.stats().confirmed));
}

bool status(const config::Config& cfg) {
  Prepared p = prepare(cfg, false);
  state::FileStateStore state(cfg.state.path);
  bool healthy = true;
  std::cout << fmt::format("pipeline {} (mode logical)\n", cfg.name);
  std::cout << fmt::format("  source  {}\n  target  {} database {}\n", cfg.postgres.describe(),
                           cfg.clickhouse.describe(), cfg.clickhouse.database);
  std::cout << fmt::format("  state   {} ({})\n", state.get(kStateKey).value_or("not started"), state.describe());
  if (auto slot = find_slot(p.source, cfg.logical.slot)) {
    std::cout << fmt::format(
        "  slot    {} {} confirmed_flush {} (lag {} bytes, WAL retained {} bytes)\n", slot->name,
        slot->active ? "active" : "inactive", format_lsn(slot->confirmed_flush_lsn), slot->lag_bytes,
        slot->retained_bytes);
  } else {
    std::cout << fmt::format("  slot    {} does not exist (created by `pg2ch run`)\n", cfg.logical.slot);
    healthy = state.get(kStateKey) != std::string(kStateStreaming);
  }
  std::cout << fmt::format("  {:<40} {:>14} {:>14}\n", "table", "postgresql", "clickhouse");
  for (const auto& t : p.tables) {
    const auto pg_rows = p.source
                             .query(fmt::format("SELECT count(*) FROM {}.{}", p.source.quote_identifier(t->source_schema),
                                                p.source.quote_identifier(t->source_name)))
                             .text(0, 0);
    std::string ch_rows = "missing";
    if (table_exists(*p.target, cfg.clickhouse.database, t->target_name)) {
      ch_rows = p.target->query(fmt::format("SELECT count() FROM {}.{} FINAL WHERE _deleted = 0",
                                            clickhouse::quote_identifier(cfg.clickhouse.database),
                                            clickhouse::quote_identifier(t->target_name)));
      while (!ch_rows.empty() && (ch_rows.back() == '\n' || ch_rows.back() == '\r')) ch_rows.pop_back();
    } else {
      healthy = false;
    }
    std::cout << fmt::format("  {:<40} {:>14} {:>14}\n", t->qualified_source(), pg_rows, ch_rows);
  }
  return healthy;
}

void teardown(const config::Config& cfg, bool drop_targets) {
  pg::Connection source = connect_source(cfg);
  drop_slot(source, cfg.logical.slot);
  drop_publication(source, cfg.logical.publication);
  state::FileStateStore state(cfg.state.path);
  state.erase(kStateKey);
  state.erase(kSlotKey);
  std::cout << fmt::format("dropped replication slot {} and publication {}\n", cfg.logical.slot, cfg.logical.publication);
  if (!drop_targets) return;
  Prepared p = prepare(cfg, false);
  for (const auto& t : p.tables) {
    for (const std::string& name : {clickhouse::current_view_name(*t), t->target_name}) {
      p.target->execute(fmt::format("DROP TABLE IF EXISTS {}.{}", clickhouse::quote_identifier(cfg.clickhouse.database),
                                    clickhouse::quote_identifier(name)));
    }
    std::cout << fmt::format("dropped ClickHouse table {}.{}\n", cfg.clickhouse.database, t->target_name);
  }
}

}  // namespace pg2ch::capture::logical
