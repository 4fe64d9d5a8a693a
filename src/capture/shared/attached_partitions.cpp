#include "capture/shared/attached_partitions.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "capture/shared/filled_before_attach.h"
#include "capture/table_sync/table_states.h"

namespace pg2ch::capture {

namespace {

std::string partitions_key(const pipeline::TableSchema& t) { return table_sync::table_state_key(t, "partitions"); }

// Every partition at any depth below $1: its oid, its pg_inherits row's xmin, its regclass text,
// whether it is a leaf, whether a `DETACH ... CONCURRENTLY` is taking it (or a partition above
// it) out (first phase committed, second not yet: pg_partition_tree leaves those out, so the
// catalog is walked), whether its own row is the pending one, then its and its parent's
// qualified names.
constexpr const char* kTreeSql = R"SQL(
WITH RECURSIVE tree(relid, pending) AS (
  SELECT inhrelid, inhdetachpending FROM pg_inherits WHERE inhparent = $1::oid
  UNION ALL
  SELECT i.inhrelid, t.pending OR i.inhdetachpending FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid
)
SELECT i.inhrelid::oid, i.xmin::text, i.inhrelid::regclass::text, c.relkind <> 'p', tree.pending,
       i.inhdetachpending, format('%I.%I', cn.nspname, c.relname), format('%I.%I', pn.nspname, pc.relname)
  FROM tree JOIN pg_inherits i ON i.inhrelid = tree.relid
  JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
  JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
 ORDER BY 7
)SQL";
enum TreeColumn { kOid, kLink, kName, kLeaf, kPending, kOwnRowPending, kQualified, kParent };

// Reads an unsigned number and the ':' after it from the front of `text`.
std::optional<std::uint32_t> take_number(std::string_view& text) {
  std::uint32_t n = 0;
  const auto [after, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || after == text.data() + text.size() || *after != ':') return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(after - text.data()) + 1);
  return n;
}

}  // namespace

std::string encode_partitions(const SeenPartitions& partitions) {
  std::string out;
  for (const auto& [oid, p] : partitions) {
    out += fmt::format("{}{}:{}:{}", out.empty() ? "" : "\n", oid, p.link, p.name);
  }
  return out;
}

SeenPartitions decode_partitions(std::string_view text) {
  SeenPartitions out;
  while (!text.empty()) {
    const auto end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const auto oid = take_number(line);
    if (!oid) continue;
    const auto link = take_number(line);  // none in a line written before it was kept
    out[*oid] = SeenPartition{link.value_or(0), std::string(line)};
  }
  return out;
}

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
        "SELECT p.relid::oid, ty.xmin::text <> i.xmin::text, p.relid::regclass::text, i.xmin::text, "
        "i.inhdetachpending FROM pg_partition_tree($1::oid::regclass) p "
        "JOIN pg_class c ON c.oid = p.relid JOIN pg_type ty ON ty.oid = c.reltype "
        "JOIN pg_inherits i ON i.inhrelid = p.relid WHERE p.relid <> $1::oid::regclass",
        {std::to_string(t->relation_oid)});
    SeenPartitions seen;
    for (int row = 0; row < r.rows(); ++row) {
      seen[static_cast<std::uint32_t>(r.int64(row, 0))] = {static_cast<std::uint32_t>(r.int64(row, 3)), r.text(row, 2)};
    }
    auto known = known_.find(t->relation_oid);
    if (known == known_.end()) {
      // The first look of a run compares with what the last run saw; a table never seen only records.
      const auto stored = store_.get(partitions_key(*t));
      known = known_.emplace(t->relation_oid, Seen{partitions_key(*t), stored ? decode_partitions(*stored) : seen}).first;
    }
    PartitionChanges c{t, {}, {}, {}};
    std::map<std::uint32_t, std::string> again;  // detached and attached again
    for (int row = 0; row < r.rows(); ++row) {
      const auto oid = static_cast<std::uint32_t>(r.int64(row, 0));
      const auto before = known->second.partitions.find(oid);
      if (before == known->second.partitions.end()) {
        const bool attached = r.boolean(row, 1) || filled_before_attach(conn_, oid);
        (attached ? c.attached : c.created)[oid] = r.text(row, 2);
        continue;
      }
      // Another pg_inherits row. A link not known (a state from before it was kept) only records.
      const auto link = static_cast<std::uint32_t>(r.int64(row, 3));
      if (before->second.link != 0 && before->second.link != link && !r.boolean(row, 4)) again[oid] = r.text(row, 2);
    }
    keep_detaching(*t, known->second.partitions, seen);
    for (const auto& [oid, p] : known->second.partitions) {
      if (!seen.contains(oid)) c.gone[oid] = p.name;
    }
    known->second.partitions = std::move(seen);
    if (!c.attached.empty()) {
      spdlog::warn("{}: partition(s) {} attached: their rows came in unseen, reading the table again",
                   t->qualified_source(), PartitionChanges::names(c.attached));
    }
    if (!again.empty()) {
      spdlog::warn("{}: partition(s) {} detached and attached again: their rows may have changed unseen meanwhile, "
                   "reading the table again",
                   t->qualified_source(), PartitionChanges::names(again));
    }
    c.attached.merge(again);
    if (c.attached.empty() && c.created.empty() && c.gone.empty()) continue;
    out.push_back(std::move(c));
  }
  return out;
}

SeenPartitions partitions_below(pg::Connection& conn, std::uint32_t root, bool leaves_only) {
  pg::Result r = conn.query(kTreeSql, {std::to_string(root)});
  SeenPartitions out;
  for (int row = 0; row < r.rows(); ++row) {
    if (leaves_only && !r.boolean(row, kLeaf)) continue;
    out[static_cast<std::uint32_t>(r.int64(row, kOid))] = {
        static_cast<std::uint32_t>(std::stoul(r.text(row, kLink))), r.text(row, kName)};
  }
  return out;
}

void record_partitions_before_copy(pg::Connection& conn, state::StateStore& store,
                                   std::span<const pipeline::TableSchema* const> tables) {
  std::map<std::string, std::string> updates;
  for (const auto* t : tables) {
    if (t->partitioned) updates.emplace(partitions_key(*t), encode_partitions(partitions_below(conn, t->relation_oid)));
  }
  if (!updates.empty()) store.put(updates);
}

void report_detaching_partitions(pg::Connection& conn, std::span<const pipeline::TableSchema* const> tables,
                                 StatusReport& report) {
  for (const auto* t : tables) {
    if (!t->partitioned) continue;
    pg::Result r = conn.query(kTreeSql, {std::to_string(t->relation_oid)});
    for (int row = 0; row < r.rows(); ++row) {
      if (!r.boolean(row, kOwnRowPending)) continue;
      report.notes.push_back(fmt::format(
          "partition {} of {} is being detached concurrently: its rows stay in the target until the detach "
          "completes; if that statement was interrupted, run ALTER TABLE {} DETACH PARTITION {} FINALIZE",
          r.text(row, kQualified), t->qualified_source(), r.text(row, kParent), r.text(row, kQualified)));
    }
  }
}

std::set<std::uint32_t> detaching_partitions(pg::Connection& conn, std::uint32_t root) {
  pg::Result r = conn.query(kTreeSql, {std::to_string(root)});
  std::set<std::uint32_t> out;
  for (int row = 0; row < r.rows(); ++row) {
    if (r.boolean(row, kPending)) out.insert(static_cast<std::uint32_t>(r.int64(row, kOid)));
  }
  return out;
}

void AttachedPartitions::keep_detaching(const pipeline::TableSchema& t, const SeenPartitions& known,
                                        SeenPartitions& seen) {
  const bool missing = std::any_of(known.begin(), known.end(), [&](const auto& k) { return !seen.contains(k.first); });
  if (!missing) return;
  for (const auto oid : detaching_partitions(conn_, t.relation_oid)) {
    const auto before = known.find(oid);
    if (before == known.end() || seen.contains(oid)) continue;
    seen.insert(*before);
    if (detaching_.insert(oid).second) {
      spdlog::info("{}: partition {} is being detached concurrently: its rows leave the target once the detach "
                   "completes (if it was interrupted: ALTER TABLE {} DETACH PARTITION {} FINALIZE)",
                   t.qualified_source(), before->second.name, t.qualified_source(), before->second.name);
    }
  }
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
    std::string text = encode_partitions(seen.partitions);
    if (store_.get(seen.key) != text) updates.emplace(seen.key, std::move(text));
  }
  if (!updates.empty()) store_.put(updates);
  looked_since_record_ = false;
}

}  // namespace pg2ch::capture
