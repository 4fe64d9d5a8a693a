#include "config/consistency.h"

#include "common/error.h"

namespace pg2ch::config::detail {

void require_consistent(const Config& config) {
  if (config.clickhouse.distributed && config.clickhouse.cluster.empty()) {
    throw Error(ErrorKind::Config,
                "clickhouse.distributed = true needs clickhouse.cluster: a Distributed table spreads rows over the "
                "shards of a cluster, and none is set",
                "set clickhouse.cluster to the servers' cluster name, or clickhouse.distributed = false for one "
                "server");
  }
}

}  // namespace pg2ch::config::detail
