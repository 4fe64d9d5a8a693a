#include "capture/shared/dropped_table.h"

#include <spdlog/spdlog.h>

#include <string>

namespace pg2ch::capture {

std::optional<std::uint32_t> table_of_name(pg::Connection& source, const pipeline::TableSchema& table) {
  pg::Result r = source.query(
      "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
      "c.relname = $2 AND c.relkind IN ('r', 'p')",
      {table.source_schema, table.source_name});
  if (r.rows() == 0) return std::nullopt;
  return static_cast<std::uint32_t>(r.int64(0, 0));
}

bool drops_dropped_table(const config::Config& cfg, pg::Connection& source, const pipeline::TableSchema& table) {
  return cfg.logical.on_table_dropped == "drop" && !table_of_name(source, table);
}

void drop_target_of_dropped(sink::SinkTargets& targets, const pipeline::TableSchema& table) {
  if (!targets.keeps_tables()) {
    spdlog::warn("table {} was dropped at the source: forgotten (logical.on_table_dropped = \"drop\"); this sink "
                 "keeps no target of it",
                 table.qualified_source());
    return;
  }
  targets.drop(table);
  spdlog::warn("table {} was dropped at the source: its target {} (and its view) dropped, the table forgotten "
               "(logical.on_table_dropped = \"drop\")",
               table.qualified_source(), table.target_name);
}

}  // namespace pg2ch::capture
