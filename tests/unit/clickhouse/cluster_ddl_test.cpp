// The DDL pg2ch writes for a cluster target (clickhouse/cluster_layout.h, target_table.h): where
// ON CLUSTER goes, the Replicated engine's arguments, the Distributed table and its sharding key,
// and which table INSERTs and reads name. The same statements against real 18.16 servers:
// integration/cluster/cluster_logical_test.cpp.
#include <gtest/gtest.h>

#include "clickhouse/cluster_layout.h"
#include "clickhouse/target_table.h"
#include "common/error.h"

namespace pg2ch::clickhouse {
namespace {

ServerCapabilities caps(const char* version) { return ServerCapabilities::from_version(parse_server_version(version)); }

// public.orders (tenant int4, id int8, note text) with key (tenant, id), target "orders".
pipeline::TableSchema orders() {
  pipeline::TableSchema t;
  t.source_schema = "public";
  t.source_name = "orders";
  t.target_name = "orders";
  const std::pair<const char*, const char*> cols[] = {
      {"tenant", "Int32"}, {"id", "Int64"}, {"note", "Nullable(String)"}};
  for (const auto& [name, type] : cols) {
    pipeline::TargetColumn c;
    c.name = name;
    c.mapping.clickhouse_type = type;
    t.target_columns.push_back(std::move(c));
  }
  t.key_target_indexes = {0, 1};
  return t;
}

const TargetLayout kOneServer{};
const TargetLayout kReplicated{.cluster = "events", .distributed = false};
const TargetLayout kDistributed{.cluster = "events", .distributed = true};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ClusterDdl, WithoutAClusterTheStatementsAreUnchanged) {
  const auto t = orders();
  EXPECT_EQ(create_database_statement("shop", kOneServer), "CREATE DATABASE IF NOT EXISTS `shop`");
  EXPECT_EQ(create_table_statement("shop", t, caps("18.16.1"), kOneServer),
            "CREATE TABLE IF NOT EXISTS `shop`.`orders` (\n    `tenant` Int32,\n    `id` Int64,\n"
            "    `note` Nullable(String),\n    _version UInt64,\n    _deleted UInt8\n) "
            "ENGINE = ReplacingMergeTree(_version)\nORDER BY (`tenant`, `id`)");
  // Servers that take a deduplication token get the window that makes it count (deduplication.h);
  // replicated tables have one by default.
  EXPECT_TRUE(create_table_statement("shop", t, caps("24.8.1"), kOneServer)
                  .ends_with("ORDER BY (`tenant`, `id`)\nSETTINGS non_replicated_deduplication_window = 1000"));
  EXPECT_TRUE(create_table_statement("shop", t, caps("24.8.1"), kReplicated).ends_with("ORDER BY (`tenant`, `id`)"));
  EXPECT_EQ(truncate_statement("shop", t, kOneServer), "TRUNCATE TABLE `shop`.`orders`");
  EXPECT_EQ(insert_statement("shop", t, kOneServer),
            "INSERT INTO `shop`.`orders` (`tenant`, `id`, `note`, _version, _deleted) FORMAT RowBinary");
  EXPECT_TRUE(insert_settings(kOneServer).empty());
  EXPECT_TRUE(ddl_settings(kOneServer, 300).empty());
}

TEST(ClusterDdl, OnClusterFollowsTheObjectNameInEveryStatement) {
  const auto t = orders();
  EXPECT_EQ(create_database_statement("shop", kReplicated), "CREATE DATABASE IF NOT EXISTS `shop` ON CLUSTER `events`");
  EXPECT_TRUE(create_table_statement("shop", t, caps("18.16.1"), kReplicated)
                  .starts_with("CREATE TABLE IF NOT EXISTS `shop`.`orders` ON CLUSTER `events` (\n"));
  EXPECT_EQ(truncate_statement("shop", t, kReplicated), "TRUNCATE TABLE `shop`.`orders` ON CLUSTER `events`");
  EXPECT_EQ(drop_statement("shop", "orders__current", kReplicated),
            "DROP TABLE IF EXISTS `shop`.`orders__current` ON CLUSTER `events`");
  EXPECT_TRUE(create_view_if_missing_statement("shop", t, kReplicated)
                  .starts_with("CREATE VIEW IF NOT EXISTS `shop`.`orders__current` ON CLUSTER `events` AS SELECT "));
  // 18.16 has no CREATE OR REPLACE VIEW: both of its statements go to the whole cluster.
  const auto old_view = create_view_statements("shop", t, caps("18.16.1"), kReplicated);
  ASSERT_EQ(old_view.size(), 2u);
  EXPECT_EQ(old_view[0], "DROP TABLE IF EXISTS `shop`.`orders__current` ON CLUSTER `events`");
  EXPECT_TRUE(old_view[1].starts_with("CREATE VIEW `shop`.`orders__current` ON CLUSTER `events` AS SELECT "));
  const auto new_view = create_view_statements("shop", t, caps("24.8.1"), kReplicated);
  ASSERT_EQ(new_view.size(), 1u);
  EXPECT_TRUE(new_view[0].starts_with("CREATE OR REPLACE VIEW `shop`.`orders__current` ON CLUSTER `events` AS "));
}

TEST(ClusterDdl, ReplicatedEngineHasAPathPerShardDatabaseAndTable) {
  const auto t = orders();
  EXPECT_EQ(engine_clause(caps("18.16.1"), kReplicated, "shop", "orders"),
            "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/shop/orders', '{replica}', _version)");
  EXPECT_EQ(engine_clause(caps("24.8.1"), kReplicated, "shop", "orders"),
            "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/shop/orders', '{replica}', _version, _deleted)");
  EXPECT_TRUE(contains(create_table_statement("shop", t, caps("18.16.1"), kReplicated),
                       ") ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/shop/orders', "
                       "'{replica}', _version)\nORDER BY (`tenant`, `id`)"));
}

TEST(ClusterDdl, PathSegmentsCannotNestOrNameAMacro) {
  // "a/b"."c" and "a"."b/c" would share a path if '/' went in as it is; '{x}' would be a macro.
  EXPECT_EQ(replication_path("a/b", "c"), "/clickhouse/tables/{shard}/a%2Fb/c");
  EXPECT_EQ(replication_path("a", "b/c"), "/clickhouse/tables/{shard}/a/b%2Fc");
  EXPECT_EQ(replication_path("db", "t{replica}%"), "/clickhouse/tables/{shard}/db/t%7Breplica%7D%25");
  // Quotes are the string literal's business.
  EXPECT_EQ(engine_clause(caps("18.16.1"), kReplicated, "shop", "it's"),
            "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/shop/it\\'s', '{replica}', _version)");
}

TEST(ClusterDdl, DistributedTableShardsByTheKeyHash) {
  const auto t = orders();
  EXPECT_EQ(sharding_key(t), "cityHash64(`tenant`, `id`)");
  EXPECT_EQ(distributed_table_name(t), "orders__distributed");
  EXPECT_EQ(create_distributed_statement("shop", t, kDistributed),
            "CREATE TABLE IF NOT EXISTS `shop`.`orders__distributed` ON CLUSTER `events` (\n    `tenant` Int32,\n"
            "    `id` Int64,\n    `note` Nullable(String),\n    _version UInt64,\n    _deleted UInt8\n) "
            "ENGINE = Distributed('events', 'shop', 'orders', cityHash64(`tenant`, `id`))");
  auto keyless = orders();
  keyless.key_target_indexes.clear();
  EXPECT_THROW(sharding_key(keyless), Error);
}

TEST(ClusterDdl, DistributedLayoutInsertsAndReadsThroughTheDistributedTable) {
  const auto t = orders();
  EXPECT_EQ(insert_statement("shop", t, kDistributed),
            "INSERT INTO `shop`.`orders__distributed` (`tenant`, `id`, `note`, _version, _deleted) FORMAT RowBinary");
  EXPECT_EQ(insert_settings(kDistributed), (std::map<std::string, std::string>{{"insert_distributed_sync", "1"}}));
  EXPECT_EQ(create_view_if_missing_statement("shop", t, kDistributed),
            "CREATE VIEW IF NOT EXISTS `shop`.`orders__current` ON CLUSTER `events` AS SELECT `tenant`, `id`, `note` "
            "FROM `shop`.`orders__distributed` FINAL WHERE _deleted = 0");
  // TRUNCATE empties the shards' own tables; the Distributed table holds nothing.
  EXPECT_EQ(truncate_statement("shop", t, kDistributed), "TRUNCATE TABLE `shop`.`orders` ON CLUSTER `events`");

  // One shard of replicas: rows go into the local replicated table, replication does the rest.
  EXPECT_EQ(insert_statement("shop", t, kReplicated),
            "INSERT INTO `shop`.`orders` (`tenant`, `id`, `note`, _version, _deleted) FORMAT RowBinary");
  EXPECT_TRUE(insert_settings(kReplicated).empty());
  EXPECT_EQ(read_table_name(kReplicated, t), "orders");
}

TEST(ClusterDdl, OnClusterStatementsWaitForEveryHostWithinTheHttpTimeout) {
  const auto s = ddl_settings(kReplicated, 300);
  EXPECT_EQ(s.at("wait_end_of_query"), "1");
  EXPECT_EQ(s.at("distributed_ddl_task_timeout"), "270");
  EXPECT_EQ(ddl_settings(kReplicated, 5).at("distributed_ddl_task_timeout"), "4");
  EXPECT_EQ(ddl_settings(kReplicated, 1).at("distributed_ddl_task_timeout"), "1");
}

}  // namespace
}  // namespace pg2ch::clickhouse
