#pragma once
// A real ClickHouse cluster for the cluster tests: one ZooKeeper and two ClickHouse servers in a
// directory of their own on free loopback ports, started by scripts/ch-cluster-local.sh. The
// cluster is named `pg2ch_cluster`; its shape is two shards of one replica or one shard of two
// replicas. Starting one takes seconds (a JVM, two servers), so a test suite starts it once in
// SetUpTestSuite and its tests share it, each in its own database. The servers are stopped when
// the object goes, and by an ExitGuardian if the test binary dies first.
//
// The run's own ClickHouse (ch_server()) is not part of it; PostgreSQL is the run's.
#include <filesystem>
#include <string>

#include "clickhouse/http_client.h"
#include "config/config.h"
#include "support/exit_guardian.h"
#include "support/local_server.h"

namespace pg2ch::test {

class ClickHouseCluster {
 public:
  enum class Shape {
    TwoShards,    // "2x1": host 0 is shard 1, host 1 is shard 2
    TwoReplicas,  // "1x2": hosts 0 and 1 are the replicas of shard 1
  };
  static constexpr std::size_t kHosts = 2;

  // Starts it in `dir`; throws std::runtime_error with the script's output when it cannot.
  ClickHouseCluster(Shape shape, std::filesystem::path dir);
  ClickHouseCluster(const ClickHouseCluster&) = delete;
  ClickHouseCluster& operator=(const ClickHouseCluster&) = delete;
  ~ClickHouseCluster();

  const std::string& name() const { return name_; }
  Shape shape() const { return shape_; }
  // The `default` user (no password) on host 0 or 1, with `database` as its default database.
  clickhouse::Endpoint endpoint(std::size_t host, const std::string& database) const;
  // A pipeline's [clickhouse] section writing to `database` through host 0 on this cluster.
  config::ClickHouseConfig clickhouse_config(const std::string& database, bool distributed) const;
  // DROP DATABASE IF EXISTS ... ON CLUSTER: a repeated test starts from nothing (with its
  // replicated tables' ZooKeeper paths removed too).
  void drop_database(const std::string& database) const;

 private:
  Shape shape_;
  std::filesystem::path dir_;
  LocalServer script_;
  std::string name_;
  int http_ports_[kHosts] = {0, 0};
  ExitGuardian guardian_;
};

// "2x1" / "1x2", for messages and test names.
const char* shape_name(ClickHouseCluster::Shape shape);

}  // namespace pg2ch::test
