#include "capture/poll/watermark_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace pg2ch::capture::poll {

std::vector<std::size_t> WatermarkPipeline::join_new_tables(const std::function<void(const pg::TableRef&)>& before_copy) {
  std::vector<std::size_t> joined;
  for (const auto& ref : found.due()) {
    std::unique_ptr<pipeline::TableSchema> table = found.describe(ref);
    if (!table) continue;
    if (engine.table_index(table->qualified_source())) {
      // Its checkpoint and state keys are the earlier table's, which this run still holds.
      found.refuse(ref, fmt::format("a table of that name was dropped or renamed while pg2ch runs; run `pg2ch resync "
                                    "{}`, then restart pg2ch to read this one",
                                    table->qualified_source()));
      continue;
    }
    const pipeline::TableSchema& t = *table;
    std::optional<Keyset> keyset;
    try {
      keyset = make_keyset(t, watermark_column(cfg, ref));
      if (s.p.targets->ensure(std::vector<const pipeline::TableSchema*>{&t}).created.empty()) s.p.targets->truncate(t);
      if (before_copy) before_copy(ref);
    } catch (const Error& e) {
      if (!NewTables::refuses_table(e)) throw;
      found.refuse(ref, e.one_line());
      continue;
    }
    spdlog::info("new table {} (matches [[tables]] \"{}\"): reading it from its first row while the other tables "
                 "stream",
                 ref.qualified(), ref.selector ? ref.selector->pattern : std::string("?"));
    s.p.refs.push_back(ref);
    s.p.tables.push_back(std::move(table));
    states.add(t);
    engine.add_table(t, std::move(*keyset));
    joined.push_back(engine.table_count() - 1);
  }
  return joined;
}

std::vector<std::size_t> WatermarkPipeline::read_attached_again() {
  std::vector<std::size_t> again;
  for (const auto* t : attached.due(s.p.table_ptrs())) {
    const auto i = engine.table_index(t->qualified_source());
    if (!i) continue;
    engine.read_again(*i);
    s.p.targets->truncate(*t);
    again.push_back(*i);
  }
  return again;
}

}  // namespace pg2ch::capture::poll
