#pragma once
// Whether the ClickHouse server pg2ch talks to can hold a table's targets the way
// `clickhouse.cluster` / `clickhouse.distributed` ask (clickhouse/cluster_layout.h). Checked
// before any DDL, so a layout that cannot work stops with what to change instead of half-created
// tables or rows that silently stay on one shard. Refused:
//   * a cluster the server does not know (not in its <remote_servers>: ON CLUSTER would fail);
//   * a server that is not one of the cluster's hosts (the tables are made on the hosts, but pg2ch
//     reads and, without `distributed`, writes through the server it connects to);
//   * several shards without `distributed` (rows written to one host stay on its shard, and each
//     shard's view shows only its part);
//   * a server without {shard} and {replica} macros (the replicated tables' path uses them).
// Only the connected server is asked; another host missing its macros fails the CREATE ON
// CLUSTER with that host's own error.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/cluster_layout.h"
#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {

struct ClusterHost {
  int shard = 0;    // system.clusters.shard_num, from 1
  int replica = 0;  // replica_num within the shard, from 1
  std::string host;
  int port = 0;     // native protocol port
  bool local = false;  // the server answering is this host
};

struct ClusterFacts {
  std::vector<ClusterHost> hosts;            // of the configured cluster; empty: unknown cluster
  std::vector<std::string> known_clusters;   // every cluster the server knows, for the hint
  std::map<std::string, std::string> macros; // system.macros
};

ClusterFacts read_cluster_facts(HttpClient& client, std::string_view cluster);

// Throws Error(Config) for a layout the facts cannot hold; `server` names the server in messages.
// No-op without a cluster.
void check_cluster_layout(const TargetLayout& layout, const ClusterFacts& facts, std::string_view server);

}  // namespace pg2ch::clickhouse
