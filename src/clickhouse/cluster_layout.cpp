#include "clickhouse/cluster_layout.h"

#include <fmt/format.h>

#include <algorithm>

#include "clickhouse/http_client.h"
#include "common/error.h"

namespace pg2ch::clickhouse {

namespace {

// One path segment: '/' would nest it, '{' '}' would be read as a macro, '%' is the escape.
std::string path_segment(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '/' || c == '{' || c == '}' || c == '%') {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string on_cluster(const TargetLayout& layout) {
  return layout.clustered() ? " ON CLUSTER " + quote_identifier(layout.cluster) : std::string();
}

std::string replication_path(std::string_view database, std::string_view table) {
  return fmt::format("/clickhouse/tables/{{shard}}/{}/{}", path_segment(database), path_segment(table));
}

std::string distributed_table_name(const pipeline::TableSchema& table) { return table.target_name + "__distributed"; }

std::string sharding_key(const pipeline::TableSchema& table) {
  if (table.key_target_indexes.empty()) {
    throw Error(ErrorKind::Schema,
                fmt::format("{} has no key columns to shard by: clickhouse.distributed needs one",
                            table.qualified_source()),
                "give the table a primary key (or a replica identity index), or set clickhouse.distributed = false");
  }
  std::string cols;
  for (int i : table.key_target_indexes) {
    if (!cols.empty()) cols += ", ";
    cols += quote_identifier(table.target_columns[static_cast<std::size_t>(i)].name);
  }
  return fmt::format("cityHash64({})", cols);
}

std::string read_table_name(const TargetLayout& layout, const pipeline::TableSchema& table) {
  return layout.clustered() && layout.distributed ? distributed_table_name(table) : table.target_name;
}

std::string insert_table_name(const TargetLayout& layout, const pipeline::TableSchema& table) {
  return read_table_name(layout, table);
}

std::map<std::string, std::string> insert_settings(const TargetLayout& layout) {
  if (!layout.clustered() || !layout.distributed) return {};
  // A Distributed INSERT is by default asynchronous: the receiving server answers 200 once the rows
  // sit in its local spool directory and sends them to the shards later, so rows acknowledged to
  // PostgreSQL could still be lost with that server's disk, and a failing shard would only show in
  // its log. With insert_distributed_sync the INSERT returns only when every shard has written its
  // part (one replica per shard; replication copies it), and fails otherwise, so "HTTP 200" keeps
  // meaning "durable" and a failed batch is retried whole (a retried row has the same key and
  // version: ReplacingMergeTree keeps one). 18.16 has the setting.
  return {{"insert_distributed_sync", "1"}};
}

std::map<std::string, std::string> ddl_settings(const TargetLayout& layout, int timeout_s) {
  if (!layout.clustered()) return {};
  // wait_end_of_query: the per-host status rows stream as hosts finish, so without it a host
  // that fails after another's row was sent could only append its error to an HTTP 200 body.
  const int margin = std::max(1, timeout_s / 10);
  return {{"distributed_ddl_task_timeout", std::to_string(std::max(1, timeout_s - margin))},
          {"wait_end_of_query", "1"}};
}

}  // namespace pg2ch::clickhouse
