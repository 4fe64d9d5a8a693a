#include "clickhouse/cluster_check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "clickhouse/tab_separated.h"
#include "common/error.h"

namespace pg2ch::clickhouse {

namespace {

int to_int(const std::string& text, std::string_view what) {
  try {
    return std::stoi(text);
  } catch (const std::exception&) {
    throw Error(ErrorKind::Protocol, fmt::format("ClickHouse answered {} with \"{}\", not a number", what, text));
  }
}

std::string hosts_shown(const std::vector<ClusterHost>& hosts) {
  std::vector<std::string> shown;
  for (const auto& h : hosts) shown.push_back(fmt::format("{}:{}", h.host, h.port));
  return fmt::format("{}", fmt::join(shown, ", "));
}

}  // namespace

ClusterFacts read_cluster_facts(HttpClient& client, std::string_view cluster) {
  ClusterFacts facts;
  for (auto& r : parse_tab_separated(client.query("SELECT DISTINCT cluster FROM system.clusters ORDER BY cluster "
                                                  "FORMAT TabSeparated"))) {
    if (!r.empty()) facts.known_clusters.push_back(std::move(r[0]));
  }
  for (auto& r : parse_tab_separated(client.query(
           fmt::format("SELECT shard_num, replica_num, host_name, port, is_local FROM system.clusters "
                       "WHERE cluster = {} ORDER BY shard_num, replica_num FORMAT TabSeparated",
                       quote_string(cluster))))) {
    if (r.size() != 5) throw Error(ErrorKind::Protocol, "ClickHouse answered system.clusters with an unexpected shape");
    facts.hosts.push_back({to_int(r[0], "shard_num"), to_int(r[1], "replica_num"), std::move(r[2]),
                           to_int(r[3], "port"), r[4] == "1"});
  }
  const std::string macros = client.query("SELECT macro, substitution FROM system.macros FORMAT TabSeparated");
  for (auto& r : parse_tab_separated(macros)) {
    if (r.size() == 2) facts.macros.emplace(std::move(r[0]), std::move(r[1]));
  }
  return facts;
}

void check_cluster_layout(const TargetLayout& layout, const ClusterFacts& facts, std::string_view server) {
  if (!layout.clustered()) return;
  const std::string name = layout.cluster;
  if (facts.hosts.empty()) {
    throw Error(ErrorKind::Config,
                fmt::format("clickhouse.cluster = \"{}\", but ClickHouse {} knows no cluster of that name ({})", name,
                            server,
                            facts.known_clusters.empty()
                                ? std::string("it has no <remote_servers> at all")
                                : fmt::format("it knows {}", fmt::join(facts.known_clusters, ", "))),
                "set clickhouse.cluster to a cluster of the servers' <remote_servers> config, or leave it empty "
                "to write to this one server");
  }
  bool local = false;
  std::set<int> shards;
  for (const auto& h : facts.hosts) {
    local = local || h.local;
    shards.insert(h.shard);
  }
  if (!local) {
    throw Error(ErrorKind::Config,
                fmt::format("ClickHouse {} is not one of the hosts of cluster {} ({}): pg2ch creates the tables on "
                            "the cluster's hosts but reads and writes through the server it connects to",
                            server, name, hosts_shown(facts.hosts)),
                "point clickhouse.host and clickhouse.port at one of the cluster's hosts");
  }
  if (shards.size() > 1 && !layout.distributed) {
    throw Error(ErrorKind::Config,
                fmt::format("cluster {} has {} shards, and clickhouse.distributed is false: the rows pg2ch writes "
                            "would all stay on the shard of {}, and every other shard's tables would stay empty",
                            name, shards.size(), server),
                "set clickhouse.distributed = true (rows are then spread over the shards by their key and read "
                "back through a Distributed table), or use a cluster of one shard");
  }
  std::vector<std::string> missing;
  for (const char* macro : {"shard", "replica"}) {
    if (!facts.macros.contains(macro)) missing.push_back(fmt::format("{{{}}}", macro));
  }
  if (!missing.empty()) {
    throw Error(ErrorKind::Config,
                fmt::format("ClickHouse {} defines no {} macro, which the path of pg2ch's replicated tables on "
                            "cluster {} uses ('/clickhouse/tables/{{shard}}/<database>/<table>', '{{replica}}')",
                            server, fmt::join(missing, " or "), name),
                "give every host of the cluster <macros><shard>N</shard><replica>NAME</replica></macros> in its "
                "config: the same shard number for the replicas of a shard, a different replica name for each");
  }
}

}  // namespace pg2ch::clickhouse
