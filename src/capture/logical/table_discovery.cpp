#include "capture/logical/table_discovery.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "capture/logical/partition_watch.h"
#include "capture/logical/publication.h"
#include "capture/shared/dropped_table.h"
#include "pg/catalog.h"

namespace pg2ch::capture::logical {

TableDiscovery::TableDiscovery(const config::Config& cfg, SourceTables& p, table_sync::TableStates& states,
                               TableGate& gate, OnlineResync& copies, pipeline::ChangeSink& sink,
                               std::string publication)
    : cfg_(cfg),
      p_(p),
      states_(states),
      gate_(gate),
      copies_(copies),
      sink_(sink),
      publication_(std::move(publication)),
      exact_(decodes_new_tables_exactly(p.source)),
      found_(cfg, p) {}

std::optional<std::string> TableDiscovery::current_name(pg::Connection& conn, std::uint32_t oid) {
  pg::Result r = conn.query("SELECT $1::oid::regclass::text FROM pg_class WHERE oid = $1", {std::to_string(oid)});
  if (r.rows() == 0) return std::nullopt;
  return r.text(0, 0);
}

bool TableDiscovery::decodes_new_tables_exactly(pg::Connection& conn) {
  // Before these minors, ALTER PUBLICATION's invalidations did not reach transactions decoded
  // at the same time, so a transaction that began before the ALTER and committed after it had
  // its changes of the new table left out of the stream (PostgreSQL commit "Fix data loss in
  // logical replication", back-patched in the May 2025 releases).
  const int version = static_cast<int>(conn.query("SELECT current_setting('server_version_num')::int").int64(0, 0));
  const int major = version / 10000;
  const int minor = version % 100;
  switch (major) {
    case 13: return minor >= 21;
    case 14: return minor >= 18;
    case 15: return minor >= 13;
    case 16: return minor >= 9;
    case 17: return minor >= 5;
    default: return major > 17;
  }
}

void TableDiscovery::poll() {
  for (const auto& ref : found_.due()) join(ref);
}

const pipeline::TableSchema* TableDiscovery::same_name(const pg::TableRef& ref) const {
  for (const auto& t : p_.tables) {
    if (t->source_schema == ref.schema && t->source_name == ref.name && t->relation_oid != ref.oid) return t.get();
  }
  return nullptr;
}

void TableDiscovery::retire(const pipeline::TableSchema& old) {
  spdlog::warn("table {} (oid {}) was dropped and a table of that name created again: copying the new one",
               old.qualified_source(), old.relation_oid);
  leave(old);
  states_.remove(old);
}

void TableDiscovery::leave(const pipeline::TableSchema& old) {
  copies_.forget(old);
  gate_.remove(old);
  sink_.discard(old);
  for (std::size_t i = 0; i < p_.tables.size(); ++i) {
    if (p_.tables[i].get() != &old) continue;
    // Kept alive: the sink and the observers may still hold its address.
    retired_.push_back(std::move(p_.tables[i]));
    p_.tables.erase(p_.tables.begin() + static_cast<std::ptrdiff_t>(i));
    p_.refs.erase(p_.refs.begin() + static_cast<std::ptrdiff_t>(i));
    break;
  }
}

void TableDiscovery::join(const pg::TableRef& ref) {
  const auto refuse = [&](const std::string& why) { found_.refuse(ref, why); };
  if (!exact_) {
    refuse(fmt::format("PostgreSQL {} may leave out changes of transactions that span adding it to the publication "
                       "(fixed in 13.21, 14.18, 15.13, 16.9, 17.5); restart pg2ch to copy it",
                       p_.source.query("SHOW server_version").text(0, 0)));
    return;
  }
  try {
    // What the start checks for every table: publishing it must not break the application's
    // UPDATEs and DELETEs (replica identity), and pg2ch must be able to read it.
    pg::check_logical_prerequisites(p_.source, {ref});
  } catch (const Error& e) {
    if (!NewTables::refuses_table(e)) throw;
    refuse(e.one_line());
    return;
  }
  std::unique_ptr<pipeline::TableSchema> table = found_.describe(ref);
  if (!table) return;
  if (const auto* old = same_name(ref)) retire(*old);
  try {
    add_to_publication(p_.source, publication_, ref);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Permission) throw;
    refuse(e.one_line());
    return;
  }
  // A partitioned one: its partitions' TRUNCATE triggers before its copy's snapshot, so a TRUNCATE
  // after that snapshot reaches the stream (partition_watch.h; one refused is the watch's to say).
  ensure_truncate_triggers(p_.source, {table.get()}, /*refused_ok=*/true);
  spdlog::info("new table {} (matches [[tables]] \"{}\"): adding it while the other tables stream", ref.qualified(),
               ref.selector ? ref.selector->pattern : std::string("?"));
  const pipeline::TableSchema& t = *table;
  p_.refs.push_back(ref);
  p_.tables.push_back(std::move(table));
  states_.add(t);
  gate_.add(t);
  copies_.copy(t);
}

void TableDiscovery::gone(const pipeline::TableSchema& table) {
  // Dropped, or dropped and created again under its name (then a new oid): which one?
  if (const auto oid = table_of_name(p_.source, table)) {
    pg::TableRef ref{*oid, table.source_schema, table.source_name, nullptr};
    for (const auto& known : p_.refs) {
      if (known.oid == table.relation_oid) ref.selector = known.selector;
    }
    if (!found_.refused(ref.oid)) {
      join(ref);
      return;
    }
  }
  if (drops_dropped_table(cfg_, p_.source, table)) {
    // Its changes still in the stream are skipped and what the sink held of it discarded before
    // its target goes, so nothing writes to (or re-creates) the target after.
    leave(table);
    drop_target_of_dropped(*p_.targets, table);
    states_.forget(table);
    return;
  }
  gate_.stop_dropped(table);
}

}  // namespace pg2ch::capture::logical
