#pragma once
// A ClickHouse sink's targets: per table a ReplacingMergeTree and its `<table>__current` view
// (clickhouse/target_table.h has the DDL); on a cluster with `distributed` also its
// <table>__distributed, which like the view holds no rows and is re-created when it differs.
//
// ensure() creates what is missing, then checks every table against what pg2ch writes
// (clickhouse/target_check.h) before any view is touched, so a view is re-created only over a
// table it can be re-created on; a `__current` name taken by anything but a view is never
// dropped. It is safe with any number of pg2ch processes starting at once: tables and views are
// created with IF NOT EXISTS, and a view is re-created only when its columns differ from the
// table's. ClickHouse before 20.1 has no CREATE OR REPLACE VIEW, so a re-created view there is
// DROP + CREATE; a CREATE that loses that race to another process is fine when the view the
// other process made is the one wanted. (Re-creating every view on every start raced exactly
// so: one process's DROP under another's CREATE failed with "already exists", code 57.)
//
// On a cluster (clickhouse.cluster) the layout is checked against system.clusters before any DDL
// (clickhouse/cluster_check.h), and every statement runs ON CLUSTER through run_ddl, which returns
// once every host has run it. The checks read the server pg2ch connects to: ON CLUSTER gives every
// host the same tables, views and Distributed tables.
#include <map>
#include <memory>
#include <string>

#include "clickhouse/ddl_runner.h"
#include "clickhouse/http_client.h"
#include "clickhouse/table_shape.h"
#include "sink/sink_targets.h"

namespace pg2ch::sink::clickhouse {

class ClickHouseTargets final : public SinkTargets {
 public:
  explicit ClickHouseTargets(const config::Config& cfg);

  const pg2ch::clickhouse::ServerCapabilities& type_capabilities() override;
  Ensured ensure(std::span<const pipeline::TableSchema* const> tables) override;
  void truncate(const pipeline::TableSchema& table) override;
  void drop(const pipeline::TableSchema& table) override;
  Count count(const pipeline::TableSchema& table) override;
  std::vector<PartsNote> parts_notes(std::span<const pipeline::TableSchema* const> tables) override;
  void add_columns(const pipeline::TableSchema& table, const std::vector<std::string>& columns,
                   const std::map<std::string, std::string>& defaults) override;
  std::optional<std::map<std::string, std::string>> column_types(const pipeline::TableSchema& table) override;
  std::optional<std::string> default_expression(const pipeline::TableSchema& table, const std::string& column,
                                                std::string_view pg_binary) override;
  void modify_columns(const pipeline::TableSchema& table, const std::vector<std::string>& columns) override;
  void keep_dropped_columns(const pipeline::TableSchema& table, const std::vector<std::string>& columns) override;
  void rename_columns(const pipeline::TableSchema& table,
                      const std::vector<std::pair<std::string, std::string>>& columns) override;
  std::string describe() const override;

 private:
  using Shapes = std::map<std::string, pg2ch::clickhouse::TableShape>;
  bool exists(const std::string& name);
  // The tables' targets and views as they are now.
  Shapes read_shapes(std::span<const pipeline::TableSchema* const> tables);
  // Creates or re-creates the view when its columns differ; a line for `changes` when it did.
  std::optional<std::string> ensure_view(const pipeline::TableSchema& table, const Shapes& shapes);
  // Creates or re-creates the Distributed table when it differs; a line for `changes` when it did.
  std::optional<std::string> ensure_distributed(const pipeline::TableSchema& table, const Shapes& shapes);
  void ddl(const std::string& sql) { pg2ch::clickhouse::run_ddl(client_, layout_, sql); }

  // client_ once the configured database exists, bootstrap_ before. A user limited to its
  // database (allow_databases) may not use "default", but for it the database exists already: an
  // administrator made it (docs/security.md).
  pg2ch::clickhouse::HttpClient& server();

  std::string database_;
  pg2ch::clickhouse::TargetLayout layout_;
  pg2ch::clickhouse::HttpClient client_;     // in the configured database
  pg2ch::clickhouse::HttpClient bootstrap_;  // in "default": the configured database may not exist yet
  bool database_exists_ = false;
};

}  // namespace pg2ch::sink::clickhouse
