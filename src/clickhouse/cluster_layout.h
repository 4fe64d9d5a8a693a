#pragma once
// Where a table's ClickHouse side lives when the target is a cluster (`clickhouse.cluster`), and
// the pieces of DDL that differ there. Pure; target_table.h puts them into statements.
//
//   no cluster        <target>               ReplacingMergeTree, on the one server pg2ch talks to
//   cluster           <target>               ReplicatedReplacingMergeTree on every host, created
//                                            and changed ON CLUSTER; rows inserted into one
//                                            replica reach the others through ZooKeeper
//   cluster +         <target>               as above, each shard holding its part of the rows
//   distributed       <target>__distributed  Distributed(cluster, db, <target>, cityHash64(key)):
//                                            pg2ch inserts and the __current view reads through it
//
// Why the sharding key is a hash of the primary key: ReplacingMergeTree replaces a row only by
// another row of the same sort key *in the same table*, so every version of one key (and its
// delete marker) must land on the same shard, or FINAL would show a shard's stale version beside
// another shard's newer one. A key that changes in an UPDATE is written as a delete of the old key
// and a row of the new one, each routed by its own key, so that holds for moved keys too.
//
// The coordination path is '/clickhouse/tables/{shard}/<database>/<table>' with '{replica}' as
// the replica name: ClickHouse expands both macros from each host's <macros>, so one statement
// run ON CLUSTER gives each shard its own path and each host its own replica. Database and table
// names go in literally (18.16 has no {database}/{table} macros), with '/', '{', '}' and '%'
// percent-encoded so that no two tables share a path and no name is read as a macro.
#include <map>
#include <string>
#include <string_view>

#include "pipeline/table_schema.h"

namespace pg2ch::clickhouse {

struct TargetLayout {
  std::string cluster;       // <remote_servers> name; empty: one server (no ON CLUSTER, no ZooKeeper)
  bool distributed = false;  // with a cluster: also a Distributed table, used for inserts and reads
  int purge_deleted_after_s = 0;  // > 0: targets purge deleted rows in merges (target_table.h)
  // Streamed batches as asynchronous inserts the server collects per table (the change sink only:
  // the initial copy's inserts are large already).
  bool async_insert = false;

  bool clustered() const { return !cluster.empty(); }
};

// " ON CLUSTER `name`", or "" without a cluster: goes right after the object's name.
std::string on_cluster(const TargetLayout& layout);

// "/clickhouse/tables/{shard}/<database>/<table>" (names percent-encoded as described above).
std::string replication_path(std::string_view database, std::string_view table);
inline constexpr const char* kReplicaName = "{replica}";

std::string distributed_table_name(const pipeline::TableSchema& table);
// "cityHash64(`a`, `b`)" over the key columns in key order. Error(Schema) for a table without key.
std::string sharding_key(const pipeline::TableSchema& table);

// The table reads go through (the __current view, status counts): the Distributed table when there
// is one, else the target itself.
std::string read_table_name(const TargetLayout& layout, const pipeline::TableSchema& table);
// The table pg2ch's INSERTs name, and the settings they need.
std::string insert_table_name(const TargetLayout& layout, const pipeline::TableSchema& table);
std::map<std::string, std::string> insert_settings(const TargetLayout& layout);

// The settings every ON CLUSTER statement is sent with. ClickHouse answers such a statement when
// every host of the cluster has run it (one status row per host), or with error 159 after
// distributed_ddl_task_timeout, naming the hosts that did not; that timeout is set below the HTTP
// timeout (`timeout_s`) so the server's answer arrives before pg2ch would give up on the request.
std::map<std::string, std::string> ddl_settings(const TargetLayout& layout, int timeout_s);

}  // namespace pg2ch::clickhouse
