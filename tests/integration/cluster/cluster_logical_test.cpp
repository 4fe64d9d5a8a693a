// ClickHouse clusters as a target (clickhouse.cluster, docs/clickhouse.md#clusters), on real
// clusters of two ClickHouse 18.16 servers and a ZooKeeper (support/clickhouse_cluster.h), with the
// pg2ch binary in logical mode:
//   * one shard of two replicas: rows written into one replica's ReplicatedReplacingMergeTree reach
//     the other, and every replica's table and view equal the source;
//   * two shards through a Distributed table: each key lives on one shard only, and the view (FINAL
//     through the Distributed table) shows every key exactly once, equal to the source;
//   * a table whose columns changed is copied again: its objects are dropped and created again ON
//     CLUSTER, at the same ZooKeeper path;
//   * layouts that cannot work are refused by `setup` before any DDL.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "support/clickhouse_cluster.h"
#include "support/pg2ch_cli.h"
#include "support/servers.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;
using Shape = ClickHouseCluster::Shape;

// One cluster per suite: ZooKeeper and two servers take seconds to start.
template <Shape kShape>
class ClusterSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The cluster is its own two 18.16 servers, whatever the run's ClickHouse flavour: run it
    // once, with the 18.16 flavour.
    if (ch_server().engine) return;
    try {
      const auto dir = run_dir() / (std::string("cluster-") + shape_name(kShape));
      cluster_ = std::make_unique<ClickHouseCluster>(kShape, dir);
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { cluster_.reset(); }

  void SetUp() override {
    PG2CH_SKIP_ON_CLICKHOUSE_ENGINE("the chDB engine has no network server to form a cluster; the cluster tests "
                                    "start two 18.16 servers and run in the 18.16 flavour");
    ASSERT_TRUE(cluster_) << "the test cluster did not start: " << start_error_;
    db_ = std::make_unique<TestDatabase>(make_test_database());
    cluster_->drop_database(db_->name());
    for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
      hosts_.push_back(std::make_unique<clickhouse::HttpClient>(cluster_->endpoint(h, "default")));
    }
  }

  config::Config config(bool distributed) const {
    auto cfg = make_test_config(*db_);
    cfg.clickhouse = cluster_->clickhouse_config(db_->name(), distributed);
    return cfg;
  }

  std::filesystem::path config_file(bool distributed, const std::string& tag) const {
    return write_config_file(config(distributed), db_->dir() / (tag + ".toml"));
  }

  ChildProcess run(const std::filesystem::path& file, const std::string& tag) const {
    return ChildProcess::spawn_pg2ch({.args = {"--config", file.string(), "run"}, .env = {}, .dir = db_->dir(),
                                      .log_prefix = tag});
  }

  // A first run that copies table t (id, v) to every replica, then stops.
  void copy_t_once(const std::filesystem::path& file) {
    auto proc = run(file, "run-1");
    ASSERT_TRUE(wait_created("t__current", proc));
    ASSERT_TRUE(wait_equal(*db_, compare("t", "id, v", "id", "t"), 90s, hosts_[1].get())) << proc.describe();
    EXPECT_EQ(proc.stop(), 0) << proc.describe();
  }

  // `sql` on host `h`, with this test's database qualified by the caller.
  Rows rows(std::size_t h, const std::string& sql) {
    return clickhouse::parse_tab_separated(hosts_[h]->query(sql + " FORMAT TabSeparated"));
  }
  std::string qualified(const std::string& table) const {
    return clickhouse::quote_identifier(db_->name()) + "." + clickhouse::quote_identifier(table);
  }
  // `columns` of the source table vs `ch_table` on host `h` (FINAL, deleted rows left out unless
  // the table is a view, which has no _deleted).
  TableQuery compare(const std::string& table, const std::string& columns, const std::string& order_by,
                     const std::string& ch_table, bool view = false) const {
    return {"SELECT " + columns + " FROM " + table + " ORDER BY " + order_by,
            "SELECT " + columns + " FROM " + qualified(ch_table) + (view ? "" : " FINAL WHERE _deleted = 0") +
                " ORDER BY " + order_by};
  }

  // Waits until pg2ch has made `name` (table or view) in this test's database on every host, with
  // `column` when one is given.
  ::testing::AssertionResult wait_created(const std::string& name, const ChildProcess& proc,
                                          const std::string& column = {}) {
    const std::string sql =
        column.empty() ? "SELECT count() FROM system.tables WHERE database = " + clickhouse::quote_string(db_->name()) +
                             " AND name = " + clickhouse::quote_string(name)
                       : "SELECT count() FROM system.columns WHERE database = " +
                             clickhouse::quote_string(db_->name()) + " AND table = " + clickhouse::quote_string(name) +
                             " AND name = " + clickhouse::quote_string(column);
    for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
      const bool made = wait_until([&] { return rows(h, sql) == Rows{{"1"}}; }, 60s, 100ms);
      if (!made) {
        return ::testing::AssertionFailure() << name << " never appeared on host " << h << "; " << proc.describe();
      }
    }
    return ::testing::AssertionSuccess();
  }

  static std::unique_ptr<ClickHouseCluster> cluster_;
  static std::string start_error_;
  std::unique_ptr<TestDatabase> db_;
  std::vector<std::unique_ptr<clickhouse::HttpClient>> hosts_;
};

template <Shape kShape>
std::unique_ptr<ClickHouseCluster> ClusterSuite<kShape>::cluster_;
template <Shape kShape>
std::string ClusterSuite<kShape>::start_error_;

using ClickHouseClusterTwoReplicas = ClusterSuite<Shape::TwoReplicas>;
using ClickHouseClusterTwoShards = ClusterSuite<Shape::TwoShards>;

TEST_F(ClickHouseClusterTwoReplicas, SnapshotAndChangesReachEveryReplica) {
  db_->pg_exec("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2))");
  db_->pg_exec("INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 2000) g");
  auto proc = run(config_file(false, "run"), "run");
  ASSERT_TRUE(wait_created("items__current", proc));
  const std::string cols = "id, name, price";
  // pg2ch writes into host 0; host 1 has the rows only through replication.
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    ASSERT_TRUE(wait_equal(*db_, compare("items", cols, "id", "items"), 90s, hosts_[h].get()))
        << "snapshot on replica " << h << "; " << proc.describe();
  }

  db_->pg_exec("INSERT INTO items SELECT g, 'new ' || g, NULL FROM generate_series(2001, 2500) g");
  db_->pg_exec("UPDATE items SET price = price + 1, name = name || '!' WHERE id % 3 = 0");
  db_->pg_exec("DELETE FROM items WHERE id % 7 = 0");
  db_->pg_exec("BEGIN; UPDATE items SET price = 1 WHERE id = 1; UPDATE items SET price = 2 WHERE id = 1; COMMIT");
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    ASSERT_TRUE(wait_equal(*db_, compare("items", cols, "id", "items"), 60s, hosts_[h].get()))
        << "changes on replica " << h << "; " << proc.describe();
    ASSERT_TRUE(wait_equal(*db_, compare("items", cols, "id", "items__current", true), 60s, hosts_[h].get()))
        << "every replica has the __current view";
    EXPECT_EQ(rows(h, "SELECT engine FROM system.tables WHERE database = '" + db_->name() + "' AND name = 'items'"),
              (Rows{{"ReplicatedReplacingMergeTree"}}));
  }

  // TRUNCATE runs ON CLUSTER: both replicas are emptied before the rows after it arrive.
  db_->pg_exec("TRUNCATE items");
  db_->pg_exec("INSERT INTO items VALUES (5, 'after truncate', 5)");
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    ASSERT_TRUE(wait_equal(*db_, compare("items", cols, "id", "items"), 60s, hosts_[h].get()))
        << "truncate on replica " << h;
    EXPECT_TRUE(wait_until([&] { return rows(h, "SELECT count() FROM " + qualified("items")) == Rows{{"1"}}; }, 30s))
        << "truncate empties replica " << h;
  }
  EXPECT_EQ(proc.stop(), 0) << proc.describe();
}

TEST_F(ClickHouseClusterTwoReplicas, AChangedTableIsCopiedAgainOnTheCluster) {
  db_->pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int)");
  db_->pg_exec("INSERT INTO t SELECT g, g FROM generate_series(1, 300) g");
  const auto file = config_file(false, "run");
  ASSERT_NO_FATAL_FAILURE(copy_t_once(file));
  // Changed while pg2ch is stopped, with rows of the old shape still ahead in the slot: the next
  // start drops the target ON CLUSTER, creates it again at the same ZooKeeper path with the new
  // column, and copies the table again.
  db_->pg_exec("UPDATE t SET v = -v WHERE id <= 10");
  db_->pg_exec("ALTER TABLE t ADD COLUMN extra text DEFAULT 'x'");
  db_->pg_exec("INSERT INTO t VALUES (301, 301, 'new')");
  auto proc = run(file, "run-2");
  ASSERT_TRUE(wait_created("t", proc, "extra"));
  ASSERT_TRUE(wait_created("t__current", proc, "extra"));
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    ASSERT_TRUE(wait_equal(*db_, compare("t", "id, v, extra", "id", "t"), 90s, hosts_[h].get()))
        << "copied again, replica " << h << "; " << proc.describe();
  }
  db_->pg_exec("UPDATE t SET extra = 'changed' WHERE id = 1");
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    ASSERT_TRUE(wait_equal(*db_, compare("t", "id, v, extra", "id", "t__current", true), 60s, hosts_[h].get()))
        << "streaming again, replica " << h;
  }
  EXPECT_EQ(proc.stop(), 0) << proc.describe();
}

// A Replicated table remembers the blocks it took (in ZooKeeper) past a TRUNCATE: a table copied
// again with its rows unchanged would send the same blocks and have them dropped as repeats. The
// copy is sent with insert_deduplicate = 0, so every row is there on every replica.
TEST_F(ClickHouseClusterTwoReplicas, UnchangedRowsCopiedAgainAreNotDroppedAsRepeats) {
  db_->pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int)");
  db_->pg_exec("INSERT INTO t SELECT g, g FROM generate_series(1, 300) g");
  const auto file = config_file(false, "run");
  ASSERT_NO_FATAL_FAILURE(copy_t_once(file));
  auto resync = ChildProcess::spawn_pg2ch(
      {.args = {"--config", file.string(), "resync", "public.t"}, .env = {}, .dir = db_->dir(), .log_prefix = "resync"});
  ASSERT_EQ(resync.wait(60s), 0) << resync.describe();
  auto proc = run(file, "run-2");
  ASSERT_TRUE(wait_until([&] { return proc.stderr_text().find("table public.t caught up") != std::string::npos; }, 90s))
      << proc.describe();
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    EXPECT_TRUE(wait_until([&] { return rows(h, "SELECT count() FROM " + qualified("t")) == Rows{{"300"}}; }, 30s))
        << "copied again, replica " << h << " has " << rows(h, "SELECT count() FROM " + qualified("t"))[0][0]
        << " rows; " << proc.describe();
  }
  EXPECT_EQ(proc.stop(), 0) << proc.describe();
}

TEST_F(ClickHouseClusterTwoShards, EachKeyLivesOnOneShardAndTheViewShowsItOnce) {
  db_->pg_exec("CREATE TABLE orders (tenant int, id bigint, note text, PRIMARY KEY (tenant, id))");
  db_->pg_exec("INSERT INTO orders SELECT g % 7, g, 'n' || g FROM generate_series(1, 3000) g");
  auto proc = run(config_file(true, "run"), "run");
  ASSERT_TRUE(wait_created("orders__current", proc));
  const std::string cols = "tenant, id, note";
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    ASSERT_TRUE(wait_equal(*db_, compare("orders", cols, "tenant, id", "orders__current", true), 90s,
                           hosts_[h].get()))
        << "snapshot through the view on host " << h << "; " << proc.describe();
  }

  // Every version of a key, and its delete marker, must go to the key's shard: updates, deletes,
  // keys that move, and a key deleted and inserted again in one transaction.
  db_->pg_exec("UPDATE orders SET note = note || '!' WHERE id % 3 = 0");
  db_->pg_exec("UPDATE orders SET tenant = tenant + 100 WHERE id % 5 = 0");
  db_->pg_exec("UPDATE orders SET id = id + 100000 WHERE id % 11 = 0");
  db_->pg_exec("DELETE FROM orders WHERE id % 13 = 0");
  db_->pg_exec("BEGIN; DELETE FROM orders WHERE tenant = 1 AND id = 1; INSERT INTO orders VALUES (1, 1, 'again'); "
               "UPDATE orders SET note = 'twice' WHERE tenant = 2 AND id = 2; COMMIT");
  db_->pg_exec("INSERT INTO orders SELECT g % 7, g, 'late' FROM generate_series(3001, 3500) g");
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    ASSERT_TRUE(wait_equal(*db_, compare("orders", cols, "tenant, id", "orders__current", true), 60s,
                           hosts_[h].get()))
        << "changes through the view on host " << h << "; " << proc.describe();
  }
  // Through the Distributed table every key is there once, with FINAL and without the deletes.
  EXPECT_EQ(rows(0, "SELECT count() FROM (SELECT tenant, id FROM " + qualified("orders__distributed") +
                        " FINAL WHERE _deleted = 0 GROUP BY tenant, id HAVING count() > 1)"),
            (Rows{{"0"}}));

  // Each shard's own table holds a part of the keys, and no key (live or deleted) is on both.
  std::set<std::string> seen[ClickHouseCluster::kHosts];
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    for (const auto& r : rows(h, "SELECT DISTINCT tenant, id FROM " + qualified("orders"))) {
      seen[h].insert(r.at(0) + "/" + r.at(1));
    }
  }
  EXPECT_GT(seen[0].size(), 500u) << "shard 1 got a share";
  EXPECT_GT(seen[1].size(), 500u) << "shard 2 got a share";
  std::size_t on_both = 0;
  for (const auto& k : seen[0]) on_both += seen[1].count(k);
  EXPECT_EQ(on_both, 0u) << "versions of one key were split over the shards";

  // `status` counts through the Distributed table: every shard's rows.
  const auto status = pg2ch_status_json(*db_, config_file(true, "status"), "status");
  const auto& table = status["tables"].GetArray()[0];
  EXPECT_EQ(table["target_rows"].GetInt64(), std::stoll(db_->pg_rows("SELECT count(*) FROM orders")[0][0]));
  EXPECT_EQ(proc.stop(), 0) << proc.describe();
}

TEST_F(ClickHouseClusterTwoShards, AChangedTableIsCopiedAgainThroughANewDistributedTable) {
  db_->pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int)");
  db_->pg_exec("INSERT INTO t SELECT g, g FROM generate_series(1, 500) g");
  const auto file = config_file(true, "run");
  {
    auto proc = run(file, "run-1");
    ASSERT_TRUE(wait_created("t__current", proc));
    ASSERT_TRUE(wait_equal(*db_, compare("t", "id, v", "id", "t__current", true), 90s, hosts_[1].get()))
        << proc.describe();
    EXPECT_EQ(proc.stop(), 0) << proc.describe();
  }
  db_->pg_exec("ALTER TABLE t ADD COLUMN extra int DEFAULT 7");
  db_->pg_exec("UPDATE t SET extra = id WHERE id % 2 = 0");
  auto proc = run(file, "run-2");
  ASSERT_TRUE(wait_created("t__current", proc, "extra"));
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    ASSERT_TRUE(wait_equal(*db_, compare("t", "id, v, extra", "id", "t__current", true), 90s, hosts_[h].get()))
        << "copied again, through host " << h << "; " << proc.describe();
  }
  EXPECT_EQ(rows(1, "SELECT count() FROM system.columns WHERE database = '" + db_->name() +
                        "' AND table = 't__distributed' AND name = 'extra'"),
            (Rows{{"1"}}))
      << "the Distributed table has the new column on every host";
  EXPECT_EQ(proc.stop(), 0) << proc.describe();
}

TEST_F(ClickHouseClusterTwoShards, SetupRefusesLayoutsThatCannotWork) {
  db_->pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int)");
  const auto expect_refused = [&](config::Config cfg, const std::string& tag, const std::string& message) {
    auto setup = pg2ch_cli(*db_, write_config_file(cfg, db_->dir() / (tag + ".toml")), {"setup"}, tag);
    const auto code = setup.wait(60s);
    EXPECT_TRUE(code && *code != 0) << tag << ": " << setup.describe();
    EXPECT_NE(setup.stderr_text().find(message), std::string::npos) << tag << ": " << setup.describe();
  };
  auto unknown = config(true);
  unknown.clickhouse.cluster = "no_such_cluster";
  expect_refused(unknown, "unknown", "knows no cluster of that name (it knows ");
  expect_refused(config(false), "shards", "has 2 shards, and clickhouse.distributed is false");
  // Nothing was created on any host.
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    EXPECT_EQ(rows(h, "SELECT count() FROM system.databases WHERE name = '" + db_->name() + "'"), (Rows{{"0"}}));
  }
}

// Columns that change while streaming are followed in place on a cluster too: the shards' tables
// are altered ON CLUSTER, the Distributed table and the view follow, and the table streams on
// without a copy. Before, a cluster target stopped the table ("on a single server only yet").
TEST_F(ClickHouseClusterTwoShards, ColumnChangesWhileStreamingAreFollowedInPlace) {
  db_->pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int, n int NOT NULL, d text)");
  db_->pg_exec("INSERT INTO t SELECT g, g, g, 'd' || g FROM generate_series(1, 1000) g");
  auto proc = run(config_file(true, "run"), "run");
  ASSERT_TRUE(wait_created("t__current", proc));
  ASSERT_TRUE(wait_equal(*db_, compare("t", "id, v, n, d", "id", "t__current", true), 90s, hosts_[1].get()))
      << proc.describe();
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(*db_, config_file(true, "status"), "public.t") == "streaming "; },
                         60s))
      << proc.describe();
  // One change followed before the next (a Relation the catalog has moved past stops the table).
  const auto step = [&](const std::string& alter, const std::string& then, const std::string& logged) {
    db_->pg_exec(alter);
    db_->pg_exec(then);
    return wait_until([&] { return proc.stderr_text().find(logged) != std::string::npos; }, 60s);
  };
  ASSERT_TRUE(step("ALTER TABLE t ADD COLUMN extra int DEFAULT 7", "INSERT INTO t VALUES (1001, 1, 1, 'new', 8)",
                   "added column extra"))
      << proc.describe();
  ASSERT_TRUE(step("ALTER TABLE t ALTER COLUMN v TYPE bigint", "UPDATE t SET v = v * 10000000 WHERE id % 7 = 0",
                   "changed column v"))
      << proc.describe();
  ASSERT_TRUE(step("ALTER TABLE t ALTER COLUMN n DROP NOT NULL", "UPDATE t SET n = NULL WHERE id % 5 = 0",
                   "may hold NULL now"))
      << proc.describe();
  ASSERT_TRUE(step("ALTER TABLE t DROP COLUMN d", "DELETE FROM t WHERE id % 11 = 0", "kept column d")) << proc.describe();
  db_->pg_exec("INSERT INTO t SELECT g, g, NULL, g FROM generate_series(1002, 1100) g");
  for (std::size_t h = 0; h < ClickHouseCluster::kHosts; ++h) {
    ASSERT_TRUE(wait_equal(*db_, compare("t", "id, v, n, extra", "id", "t__current", true), 60s, hosts_[h].get()))
        << "through the view on host " << h << "; " << proc.describe();
  }
  EXPECT_EQ(proc.stderr_text().find("copying"), std::string::npos) << "copied again: " << proc.describe();
  EXPECT_EQ(pg2ch_table_state(*db_, config_file(true, "status"), "public.t"), "streaming ") << proc.describe();
  EXPECT_EQ(proc.stop(), 0) << proc.describe();
}

}  // namespace
}  // namespace pg2ch::test
