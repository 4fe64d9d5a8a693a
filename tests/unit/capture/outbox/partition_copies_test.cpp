// The outbox's SQL for partitions as text (capture/outbox/partition_copies.h): the
// partition-truncate function and the drainer's lock of copy requests. Behaviour on a real server:
// tests/integration/outbox/outbox_partition_copy_test.cpp.
#include "capture/outbox/partition_copies.h"

#include <gtest/gtest.h>

namespace pg2ch::capture::outbox {
namespace {

OutboxNames names() {
  OutboxNames n;
  n.schema = "pg2ch";
  n.events = "events";
  n.truncates = "events_truncates";
  n.progress = "events_progress";
  n.tag = "p";
  n.pipeline = "p";
  return n;
}

pipeline::TableSchema sales() {
  pipeline::TableSchema t;
  t.relation_oid = 16400;
  t.source_schema = "public";
  t.source_name = "sales";
  t.partitioned = true;
  return t;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(OutboxPartitionCopies, TheTruncateTriggerQueuesACopyRequestOnlyForAPartitionStillUnderTheTable) {
  EXPECT_EQ(partition_truncate_function(names(), sales()), "p_16400_ptrunc");
  const auto ddl = partition_truncate_function_ddl(names(), sales());
  ASSERT_EQ(ddl.size(), 2u);
  EXPECT_TRUE(contains(ddl[0], "CREATE OR REPLACE FUNCTION \"pg2ch\".\"p_16400_ptrunc\"() RETURNS trigger LANGUAGE "
                               "plpgsql SECURITY DEFINER"))
      << ddl[0];
  EXPECT_TRUE(contains(ddl[0], "pg_catalog.pg_partition_ancestors(TG_RELID)")) << "a detached partition asks nothing";
  EXPECT_TRUE(contains(ddl[0], "INSERT INTO \"pg2ch\".\"events_truncates\" (lsn, rel, part) VALUES "
                               "(pg_catalog.pg_current_wal_insert_lsn(), 16400::pg_catalog.oid, TG_RELID)"))
      << ddl[0];
  EXPECT_TRUE(contains(ddl[1], "writes pg2ch.events")) << "teardown finds it by the marker: " << ddl[1];
}

TEST(OutboxPartitionCopies, ALockTakesTheTablesRequestsBeforeItsNextTruncate) {
  const std::string sql = lock_copy_requests_sql(names());
  EXPECT_TRUE(contains(sql, "part IS NOT NULL AND lsn < COALESCE((SELECT min(lsn) FROM \"pg2ch\".\"events_truncates\" "
                            "WHERE rel = $1::pg_catalog.oid AND part IS NULL)"))
      << sql;
  EXPECT_TRUE(contains(sql, "ORDER BY lsn FOR UPDATE")) << sql;
}

}  // namespace
}  // namespace pg2ch::capture::outbox
