// Which cluster layouts pg2ch refuses before any DDL, and what it says (clickhouse/cluster_check.h).
// Facts as a server's system.clusters / system.macros would give them.
#include "clickhouse/cluster_check.h"

#include <gtest/gtest.h>

#include <optional>

#include "common/error.h"

namespace pg2ch::clickhouse {
namespace {

// Two hosts; `shards` 2: one replica each, 1: two replicas of one shard. The first host answers.
ClusterFacts facts(int shards) {
  ClusterFacts f;
  f.known_clusters = {"events", "test_shard_localhost"};
  f.hosts = {{1, 1, "ch1", 9000, true}, {shards == 2 ? 2 : 1, shards == 2 ? 1 : 2, "ch2", 9000, false}};
  f.macros = {{"shard", "01"}, {"replica", "ch1"}};
  return f;
}

std::optional<Error> check(const TargetLayout& layout, const ClusterFacts& f) {
  try {
    check_cluster_layout(layout, f, "default@ch1:8123/default");
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

void expect_refused(const TargetLayout& layout, const ClusterFacts& f, const std::string& message,
                    const std::string& hint) {
  const auto e = check(layout, f);
  ASSERT_TRUE(e) << "accepted";
  EXPECT_EQ(e->kind(), ErrorKind::Config);
  EXPECT_NE(std::string(e->what()).find(message), std::string::npos) << e->what();
  EXPECT_NE(e->hint().find(hint), std::string::npos) << e->hint();
}

TEST(ClusterCheck, AcceptsTheLayoutsThatWork) {
  EXPECT_FALSE(check({.cluster = "events", .distributed = false}, facts(1))) << "replicas of one shard";
  EXPECT_FALSE(check({.cluster = "events", .distributed = true}, facts(1))) << "one shard through Distributed";
  EXPECT_FALSE(check({.cluster = "events", .distributed = true}, facts(2))) << "shards through Distributed";
  EXPECT_FALSE(check({}, ClusterFacts{})) << "no cluster: nothing to check";
}

TEST(ClusterCheck, RefusesAClusterTheServerDoesNotKnow) {
  ClusterFacts f = facts(1);
  f.hosts.clear();
  expect_refused({.cluster = "evnets"}, f, "knows no cluster of that name (it knows events, test_shard_localhost)",
                 "<remote_servers>");
  f.known_clusters.clear();
  expect_refused({.cluster = "evnets"}, f, "it has no <remote_servers> at all", "leave it empty");
}

TEST(ClusterCheck, RefusesAServerOutsideTheCluster) {
  ClusterFacts f = facts(1);
  f.hosts[0].local = false;
  expect_refused({.cluster = "events"}, f, "is not one of the hosts of cluster events (ch1:9000, ch2:9000)",
                 "point clickhouse.host");
}

TEST(ClusterCheck, RefusesSeveralShardsWithoutDistributed) {
  expect_refused({.cluster = "events", .distributed = false}, facts(2), "cluster events has 2 shards",
                 "clickhouse.distributed = true");
}

TEST(ClusterCheck, RefusesAServerWithoutShardOrReplicaMacros) {
  ClusterFacts f = facts(1);
  f.macros.erase("replica");
  expect_refused({.cluster = "events"}, f, "defines no {replica} macro", "<macros>");
  f.macros.clear();
  expect_refused({.cluster = "events"}, f, "defines no {shard} or {replica} macro", "<macros>");
}

}  // namespace
}  // namespace pg2ch::clickhouse
