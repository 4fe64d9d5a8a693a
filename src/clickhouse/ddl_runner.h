#pragma once
// Runs pg2ch's DDL the way the layout needs (clickhouse/cluster_layout.h): as it is on one
// server; on a cluster with ddl_settings(), so the answer comes once every host has run the
// statement, and with each host's status checked. For a Replicated table an ALTER ON CLUSTER runs
// on one replica per shard and reaches the others through ZooKeeper; 18.16 waits for them too
// (replication_alter_columns_timeout, 60 s) before that host reports done. So when this returns,
// every replica has the new shape and rows in it may be sent.
#include <string_view>

#include "clickhouse/cluster_layout.h"
#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {

// Throws the server's Error, with "on cluster <name>" added to it; Error(Server) naming the host
// when a host reports a failure in an answer that is otherwise a success.
void run_ddl(HttpClient& client, const TargetLayout& layout, std::string_view sql);

}  // namespace pg2ch::clickhouse
