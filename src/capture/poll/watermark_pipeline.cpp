#include "capture/poll/watermark_pipeline.h"

#include <spdlog/spdlog.h>

namespace pg2ch::capture::poll {

std::vector<std::size_t> WatermarkPipeline::join_new_tables(const std::function<void(const pg::TableRef&)>& before_copy) {
  std::vector<std::size_t> joined;
  for (const auto& ref : found.due()) {
    std::optional<Keyset> keyset;
    const auto* t = found.join(
        ref,
        [&](const pipeline::TableSchema& table) {
          keyset = make_keyset(table, watermark_column(cfg, ref));
          const std::vector<const pipeline::TableSchema*> one{&table};
          if (s.p.targets->ensure(one).created.empty()) s.p.targets->truncate(table);
          if (before_copy) before_copy(ref);
        },
        "reading it from its first row while the other tables stream");
    if (!t) continue;
    states.add(*t);
    engine.add_table(*t, std::move(*keyset));
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
  attached.record();  // after read_again() made the reads from the first row durable
  return again;
}

}  // namespace pg2ch::capture::poll
