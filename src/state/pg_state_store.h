#pragma once
// StateStore in the source PostgreSQL: table <outbox.schema>.state (pipeline, key, value), one row
// per key, created (with its schema) when missing. For hosts without a durable local disk
// (containers), and so the checkpoint lives next to the data it describes. Every put() is one
// transaction of upserts: all of it is durable at COMMIT, or none of it.
//
// The whole pipeline's rows are read once at open and cached: one pipeline writes its own keys,
// so the cache is the table's content between puts.
#include <map>
#include <mutex>
#include <string>

#include "config/config.h"
#include "pg/connection.h"
#include "state/state_store.h"

namespace pg2ch::state {

class PgStateStore final : public StateStore {
 public:
  // Connects with cfg.postgres, creates the table if missing, loads cfg.name's keys.
  explicit PgStateStore(const config::Config& cfg);
  // Uses an existing connection (tests); `schema` holds the table.
  PgStateStore(pg::Connection conn, std::string schema, std::string pipeline);

  std::optional<std::string> get(const std::string& key) const override;
  void put(const std::map<std::string, std::string>& updates) override;
  void erase(const std::string& key) override;
  void refresh() override;
  std::string describe() const override;

 private:
  void ensure_table();
  void load();

  pg::Connection conn_;
  std::string schema_;
  std::string pipeline_;
  std::string table_;   // quoted schema.state
  std::map<std::string, std::string> values_;
  mutable std::mutex mutex_;  // StateStore is thread-safe
};

}  // namespace pg2ch::state
