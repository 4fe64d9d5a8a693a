#include "capture/logical/table_discovery.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "capture/logical/publication.h"
#include "pg/catalog.h"

namespace pg2ch::capture::logical {

namespace {

constexpr auto kLookEvery = std::chrono::seconds(5);

}  // namespace

TableDiscovery::TableDiscovery(const config::Config& cfg, SourceTables& p, table_sync::TableStates& states,
                               TableGate& gate, OnlineResync& copies, std::string publication)
    : cfg_(cfg), p_(p), states_(states), gate_(gate), copies_(copies), publication_(std::move(publication)) {}

std::optional<std::string> TableDiscovery::current_name(pg::Connection& conn, std::uint32_t oid) {
  pg::Result r = conn.query("SELECT $1::oid::regclass::text FROM pg_class WHERE oid = $1", {std::to_string(oid)});
  if (r.rows() == 0) return std::nullopt;
  return r.text(0, 0);
}

void TableDiscovery::poll() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_look_) return;
  next_look_ = now + kLookEvery;
  for (const auto& sel : cfg_.tables) {
    for (const auto& ref : pg::wildcard_matches(p_.source, sel)) {
      const bool known = std::any_of(p_.tables.begin(), p_.tables.end(),
                                     [&](const auto& t) { return t->relation_oid == ref.oid; });
      if (known || refused_.contains(ref.oid)) continue;
      join(ref);
    }
  }
}

void TableDiscovery::join(const pg::TableRef& ref) {
  std::unique_ptr<pipeline::TableSchema> table;
  try {
    table = std::make_unique<pipeline::TableSchema>(
        pg::describe_table(p_.source, ref, p_.targets->type_capabilities(), p_.describe_options));
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Schema && e.kind() != ErrorKind::Config) throw;
    refused_.insert(ref.oid);
    spdlog::warn("new table {} matches [[tables]] \"{}\" but is not replicated: {}", ref.qualified(),
                 ref.selector ? ref.selector->pattern : std::string("?"), e.one_line());
    return;
  }
  spdlog::info("new table {} (matches [[tables]] \"{}\"): adding it while the other tables stream", ref.qualified(),
               ref.selector ? ref.selector->pattern : std::string("?"));
  add_to_publication(p_.source, publication_, ref);
  const pipeline::TableSchema& t = *table;
  p_.refs.push_back(ref);
  p_.tables.push_back(std::move(table));
  states_.add(t);
  gate_.add(t);
  if (!copies_.copy(t)) {
    spdlog::warn("new table {}: sink {} copies through the stream, which cannot run beside it; it is copied at the "
                 "next start (restart pg2ch)",
                 t.qualified_source(), cfg_.sink);
  }
}

}  // namespace pg2ch::capture::logical
