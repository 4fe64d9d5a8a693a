#include "capture/shared/attached_partitions.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "capture/table_sync/table_states.h"

namespace pg2ch::capture {

namespace {

std::string partitions_key(const pipeline::TableSchema& t) { return table_sync::table_state_key(t, "partitions"); }

// One "oid:name" line per partition; the oid is what counts, the name is for the log.
std::string encode(const std::map<std::uint32_t, std::string>& partitions) {
  std::string out;
  for (const auto& [oid, name] : partitions) out += fmt::format("{}{}:{}", out.empty() ? "" : "\n", oid, name);
  return out;
}

std::map<std::uint32_t, std::string> decode(std::string_view text) {
  std::map<std::uint32_t, std::string> out;
  while (!text.empty()) {
    const auto end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    std::uint32_t oid = 0;
    const auto [after, ec] = std::from_chars(line.data(), line.data() + line.size(), oid);
    if (ec == std::errc() && after < line.data() + line.size() && *after == ':') {
      out[oid] = std::string(line.substr(static_cast<std::size_t>(after - line.data()) + 1));
    }
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return out;
}

}  // namespace

std::string PartitionChanges::names(const std::map<std::uint32_t, std::string>& partitions) {
  std::string out;
  for (const auto& [oid, name] : partitions) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::vector<PartitionChanges> AttachedPartitions::look(std::span<const pipeline::TableSchema* const> tables) {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_look_) return {};
  next_look_ = now + every_;
  looked_since_record_ = true;
  std::vector<PartitionChanges> out;
  for (const auto* t : tables) {
    if (!t->partitioned) continue;
    pg::Result r = conn_.query(
        "SELECT p.relid::oid, ty.xmin::text <> i.xmin::text, p.relid::regclass::text FROM pg_partition_tree($1::oid::regclass) p "
        "JOIN pg_class c ON c.oid = p.relid JOIN pg_type ty ON ty.oid = c.reltype "
        "JOIN pg_inherits i ON i.inhrelid = p.relid WHERE p.relid <> $1::oid::regclass",
        {std::to_string(t->relation_oid)});
    std::map<std::uint32_t, std::string> seen;
    for (int row = 0; row < r.rows(); ++row) seen[static_cast<std::uint32_t>(r.int64(row, 0))] = r.text(row, 2);
    auto known = known_.find(t->relation_oid);
    if (known == known_.end()) {
      // The first look of a run compares with what the last run saw; a table never seen only records.
      const auto stored = store_.get(partitions_key(*t));
      known = known_.emplace(t->relation_oid, Seen{partitions_key(*t), stored ? decode(*stored) : seen}).first;
    }
    PartitionChanges c{t, {}, {}, {}};
    for (int row = 0; row < r.rows(); ++row) {
      const auto oid = static_cast<std::uint32_t>(r.int64(row, 0));
      if (known->second.partitions.contains(oid)) continue;
      (r.boolean(row, 1) ? c.attached : c.created)[oid] = r.text(row, 2);
    }
    for (const auto& [oid, name] : known->second.partitions) {
      if (!seen.contains(oid)) c.gone[oid] = name;
    }
    known->second.partitions = std::move(seen);
    if (!c.attached.empty()) {
      spdlog::warn("{}: partition(s) {} attached: their rows came in unseen, reading the table again",
                   t->qualified_source(), PartitionChanges::names(c.attached));
    }
    if (c.attached.empty() && c.created.empty() && c.gone.empty()) continue;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<const pipeline::TableSchema*> AttachedPartitions::due(std::span<const pipeline::TableSchema* const> tables) {
  std::vector<const pipeline::TableSchema*> out;
  for (const auto& c : look(tables)) {
    if (!c.attached.empty()) out.push_back(c.table);
  }
  return out;
}

void AttachedPartitions::record() {
  // Called on every turn of the loop; a look is due every few seconds.
  if (!looked_since_record_) return;
  std::map<std::string, std::string> updates;
  for (const auto& [root, seen] : known_) {
    std::string text = encode(seen.partitions);
    if (store_.get(seen.key) != text) updates.emplace(seen.key, std::move(text));
  }
  if (!updates.empty()) store_.put(updates);
  looked_since_record_ = false;
}

}  // namespace pg2ch::capture
