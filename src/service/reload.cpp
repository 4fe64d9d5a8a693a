#include "service/reload.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace pg2ch::service {
namespace {

constexpr std::array<std::string_view, 8> kReloadable = {
    "log.level",           "log.summary_interval_s",         "batch.max_rows",
    "batch.max_bytes",     "batch.max_delay_ms",             "batch.idle_flush_ms",
    "batch.table_insert_interval_ms", "batch.max_inserts_per_second",
};

}  // namespace

bool is_reloadable(const std::string& key) {
  return std::find(kReloadable.begin(), kReloadable.end(), key) != kReloadable.end();
}

ReloadOutcome apply_reload(config::Config& running, const config::Config& fresh) {
  ReloadOutcome out;
  // A key set before and now left to its default differs too: compare both key sets.
  std::vector<std::string> keys;
  for (const auto& [k, _] : running.given) keys.push_back(k);
  for (const auto& [k, _] : fresh.given) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const auto& key : keys) {
    const auto a = running.given.find(key);
    const auto b = fresh.given.find(key);
    const bool same = a != running.given.end() && b != fresh.given.end() && a->second == b->second;
    if (same || (a == running.given.end() && b == fresh.given.end())) continue;
    (is_reloadable(key) ? out.applied : out.needs_restart).push_back(key);
  }
  if (!(running.tables == fresh.tables)) out.needs_restart.push_back("[[tables]]");

  running.log.level = fresh.log.level;
  running.log.summary_interval = fresh.log.summary_interval;
  running.batch = fresh.batch;
  for (const auto& key : out.applied) {
    if (auto it = fresh.given.find(key); it != fresh.given.end()) {
      running.given[key] = it->second;
    } else {
      running.given.erase(key);
    }
  }
  return out;
}

}  // namespace pg2ch::service
