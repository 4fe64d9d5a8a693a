#include "capture/poll/watermark_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "capture/poll/cursor.h"
#include "capture/poll/horizon_probe.h"
#include "capture/poll/poll_engine.h"

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

WatermarkSource open_watermark_source(const config::Config& cfg, bool warn_missing_index) {
  WatermarkSource s{open_source_tables(cfg), {}};
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

bool print_watermark_status(const config::Config& cfg, WatermarkSource& s, state::StateStore& state) {
  bool healthy = true;
  std::cout << fmt::format("pipeline {} (mode {})\n", cfg.name, cfg.mode);
  std::cout << fmt::format("  source  {}\n  target  {} database {}\n", cfg.postgres.describe(),
                           cfg.clickhouse.describe(), cfg.clickhouse.database);
  std::cout << fmt::format("  state   {}\n", state.describe());
  if (cfg.mode == "notify") {
    std::cout << fmt::format("  capture LISTEN {} (triggers in schema {}), fallback poll every {} ms, {} rows per page\n",
                             cfg.notify.channel, cfg.notify.trigger_schema, cfg.poll.interval.count(),
                             cfg.poll.batch_size);
  } else {
    std::cout << fmt::format("  capture poll every {} ms once caught up, {} rows per page\n", cfg.poll.interval.count(),
                             cfg.poll.batch_size);
  }
  std::cout << "  deletes NOT captured: rows deleted at the source stay in ClickHouse in this mode; "
               "use mode = \"outbox\" (or \"logical\") to capture deletes\n";
  const bool sees_all = role_sees_all_transactions(s.p.source);
  const std::string user = s.p.source.query("SELECT current_user").text(0, 0);
  std::cout << fmt::format("  horizon {}\n", HorizonProbe::describe(sees_all, user));
  for (std::size_t i = 0; i < s.p.tables.size(); ++i) {
    const auto& t = *s.p.tables[i];
    std::string where = "not started (reads from the first row)";
    if (auto stored = state.get(checkpoint_key(t))) {
      if (auto c = decode_checkpoint(*stored)) where = fmt::format("checkpoint {} = {}", c->column, c->cursor.watermark);
    }
    std::cout << fmt::format("  {:<40} watermark {:<16} {}\n", t.qualified_source(), s.keysets[i].order.front().name,
                             where);
  }
  if (!print_table_counts(s.p)) healthy = false;
  return healthy;
}

void erase_checkpoints(WatermarkSource& s, state::StateStore& state) {
  for (const auto& t : s.p.tables) state.erase(checkpoint_key(*t));
}

}  // namespace pg2ch::capture::poll
