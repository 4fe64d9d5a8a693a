#include "capture/shared/new_tables.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace pg2ch::capture {

NewTables::NewTables(const config::Config& cfg, SourceTables& p, std::chrono::milliseconds every)
    : cfg_(cfg), p_(p), every_(every) {}

std::vector<pg::TableRef> NewTables::due() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_look_) return {};
  next_look_ = now + every_;
  std::vector<pg::TableRef> out;
  for (const auto& sel : cfg_.tables) {
    for (const auto& ref : pg::wildcard_matches(p_.source, sel)) {
      const bool known = std::any_of(p_.tables.begin(), p_.tables.end(),
                                     [&](const auto& t) { return t->relation_oid == ref.oid; });
      const bool listed = std::any_of(out.begin(), out.end(), [&](const auto& r) { return r.oid == ref.oid; });
      if (!known && !listed && !refused(ref.oid)) out.push_back(ref);
    }
  }
  return out;
}

bool NewTables::refuses_table(const Error& e) {
  return e.kind() == ErrorKind::Schema || e.kind() == ErrorKind::Config || e.kind() == ErrorKind::Permission;
}

std::unique_ptr<pipeline::TableSchema> NewTables::describe(const pg::TableRef& ref) {
  try {
    return std::make_unique<pipeline::TableSchema>(
        pg::describe_table(p_.source, ref, p_.targets->type_capabilities(), p_.describe_options));
  } catch (const Error& e) {
    if (!refuses_table(e)) throw;
    refuse(ref, e.one_line());
    return nullptr;
  }
}

const pipeline::TableSchema* NewTables::join(const pg::TableRef& ref,
                                             const std::function<void(const pipeline::TableSchema&)>& ready,
                                             std::string_view next) {
  std::unique_ptr<pipeline::TableSchema> table = describe(ref);
  if (!table) return nullptr;
  if (std::any_of(p_.tables.begin(), p_.tables.end(),
                  [&](const auto& held) { return held->qualified_source() == table->qualified_source(); })) {
    refuse(ref, fmt::format("a table of that name was dropped or renamed while pg2ch runs; run `pg2ch resync {}`, "
                            "then restart pg2ch",
                            table->qualified_source()));
    return nullptr;
  }
  try {
    ready(*table);
  } catch (const Error& e) {
    if (!refuses_table(e)) throw;
    refuse(ref, e.one_line());
    return nullptr;
  }
  spdlog::info("new table {} (matches [[tables]] \"{}\"): {}", ref.qualified(),
               ref.selector ? ref.selector->pattern : std::string("?"), next);
  p_.refs.push_back(ref);
  p_.tables.push_back(std::move(table));
  return p_.tables.back().get();
}

void NewTables::refuse(const pg::TableRef& ref, const std::string& why) {
  refused_.insert(ref.oid);
  spdlog::warn("table {} matches [[tables]] \"{}\" but is not replicated: {}", ref.qualified(),
               ref.selector ? ref.selector->pattern : std::string("?"), why);
}

}  // namespace pg2ch::capture
