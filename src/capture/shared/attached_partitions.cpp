#include "capture/shared/attached_partitions.h"

#include <spdlog/spdlog.h>

#include <string>

namespace pg2ch::capture {

std::vector<const pipeline::TableSchema*> AttachedPartitions::due(
    std::span<const pipeline::TableSchema* const> tables) {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_look_) return {};
  next_look_ = now + every_;
  std::vector<const pipeline::TableSchema*> out;
  for (const auto* t : tables) {
    if (!t->partitioned) continue;
    pg::Result r = conn_.query(
        "SELECT p.relid::oid, ty.xmin::text <> i.xmin::text, p.relid::text FROM pg_partition_tree($1::oid::regclass) p "
        "JOIN pg_class c ON c.oid = p.relid JOIN pg_type ty ON ty.oid = c.reltype "
        "JOIN pg_inherits i ON i.inhrelid = p.relid WHERE p.relid <> $1::oid::regclass",
        {std::to_string(t->relation_oid)});
    const bool first_look = !known_.contains(t->relation_oid);
    std::set<std::uint32_t> seen;
    std::string attached;
    for (int row = 0; row < r.rows(); ++row) {
      const auto oid = static_cast<std::uint32_t>(r.int64(row, 0));
      seen.insert(oid);
      if (!first_look && !known_[t->relation_oid].contains(oid) && r.boolean(row, 1)) {
        attached += (attached.empty() ? "" : ", ") + r.text(row, 2);
      }
    }
    known_[t->relation_oid] = std::move(seen);
    if (attached.empty()) continue;
    spdlog::warn("{}: partition(s) {} attached while running: their rows came in unseen, reading the table again",
                 t->qualified_source(), attached);
    out.push_back(t);
  }
  return out;
}

}  // namespace pg2ch::capture
