#pragma once
// A ClickHouse sink's targets: per table a ReplacingMergeTree and its `<table>__current` view
// (clickhouse/target_table.h has the DDL).
//
// ensure() is safe with any number of pg2ch processes starting at once: it creates only what is
// missing, with IF NOT EXISTS, and re-creates a view only when its columns differ from the
// table's. ClickHouse before 20.1 has no CREATE OR REPLACE VIEW, so a re-created view there is
// DROP + CREATE; a CREATE that loses that race to another process is fine when the view the
// other process made is the one wanted. (Re-creating every view on every start raced exactly
// so: one process's DROP under another's CREATE failed with "already exists", code 57.)
#include <memory>
#include <string>

#include "clickhouse/http_client.h"
#include "sink/sink_targets.h"

namespace pg2ch::sink::clickhouse {

class ClickHouseTargets final : public SinkTargets {
 public:
  explicit ClickHouseTargets(const config::Config& cfg);

  const pg2ch::clickhouse::ServerCapabilities& type_capabilities() override;
  std::vector<const pipeline::TableSchema*> ensure(std::span<const pipeline::TableSchema* const> tables) override;
  void truncate(const pipeline::TableSchema& table) override;
  void drop(const pipeline::TableSchema& table) override;
  Count count(const pipeline::TableSchema& table) override;
  std::string describe() const override;

 private:
  bool exists(const std::string& name);
  // The view's column names in order, or nullopt when it does not exist.
  std::optional<std::vector<std::string>> view_columns(const pipeline::TableSchema& table);
  void ensure_view(const pipeline::TableSchema& table);

  std::string database_;
  pg2ch::clickhouse::HttpClient client_;     // in the configured database
  pg2ch::clickhouse::HttpClient bootstrap_;  // in "default": the configured one may not exist yet
};

}  // namespace pg2ch::sink::clickhouse
