#pragma once
// Shared setup for the outbox mode's integration tests: a config in outbox mode with a short
// idle interval, and `pg2ch setup` run in-process.
#include <string>
#include <vector>

#include "capture/capture_mode.h"
#include "support/test_config.h"
#include "support/test_database.h"

namespace pg2ch::test {

// `variant`: the payload ("key" | "row"), with "_statement" for statement-level triggers.
inline config::Config outbox_config(const TestDatabase& db, std::vector<std::string> tables,
                                    const std::string& variant = "key") {
  auto cfg = make_test_config(db, std::move(tables));
  cfg.mode = "outbox";
  const auto sep = variant.find('_');
  cfg.outbox.payload = variant.substr(0, sep);
  if (sep != std::string::npos) cfg.outbox.triggers = variant.substr(sep + 1);
  cfg.outbox.interval = std::chrono::milliseconds(50);
  return cfg;
}

inline void outbox_setup(const config::Config& cfg) { capture::capture_mode("outbox").setup(cfg); }

inline std::string events_waiting(TestDatabase& db, const config::Config& cfg) {
  return db.pg_rows("SELECT count(*) FROM " + cfg.outbox.schema + "." + cfg.outbox.table)[0][0];
}

}  // namespace pg2ch::test
