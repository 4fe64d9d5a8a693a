#include "capture/outbox/copy_lock.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>

#include "common/error.h"

namespace pg2ch::capture::outbox {

namespace {

// One bigint: the events table's name hashed (another outbox copies its own target) and the oid.
constexpr const char* kKey = "(pg_catalog.hashtext($1)::bigint << 32) | $2::pg_catalog.oid::bigint";

std::vector<std::optional<std::string>> key_params(const std::string& events, const pipeline::TableSchema& t) {
  return {events, std::to_string(t.relation_oid)};
}

}  // namespace

bool try_lock_copies_of(pg::Connection& conn, const OutboxNames& n, const pipeline::TableSchema& table) {
  return conn.query(fmt::format("SELECT pg_catalog.pg_try_advisory_xact_lock({})", kKey), key_params(n.events_table(), table))
      .boolean(0, 0);
}

CopyLock::CopyLock(pg::Connection& conn, const OutboxNames& n, std::vector<const pipeline::TableSchema*> tables)
    : conn_(conn), events_(n.events_table()) {
  // In oid order: two copies of overlapping sets never wait for each other crosswise.
  std::sort(tables.begin(), tables.end(), [](const auto* a, const auto* b) { return a->relation_oid < b->relation_oid; });
  for (const auto* t : tables) {
    const auto params = key_params(events_, *t);
    if (!conn.query(fmt::format("SELECT pg_catalog.pg_try_advisory_lock({})", kKey), params).boolean(0, 0)) {
      spdlog::info("outbox: another drainer copies {}; waiting for it to finish", t->qualified_source());
      conn.query(fmt::format("SELECT pg_catalog.pg_advisory_lock({})", kKey), params);
    }
    held_.push_back(t);
  }
}

CopyLock::~CopyLock() {
  for (const auto* t : held_) {
    try {
      conn_.query(fmt::format("SELECT pg_catalog.pg_advisory_unlock({})", kKey), key_params(events_, *t));
    } catch (const Error& e) {
      // A connection gone took the lock with it.
      spdlog::warn("outbox: could not release the copy lock of {}: {}", t->qualified_source(), e.one_line());
    }
  }
}

}  // namespace pg2ch::capture::outbox
