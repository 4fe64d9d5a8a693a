// TRUNCATE between drainers, made deterministic: a test session locks events the way another
// drainer's claim would, and one OutboxDrainer must yield instead of truncating ahead of earlier
// events (which would then resurrect rows) or writing rows ahead of a truncate (which would then
// wipe them).
#include <gtest/gtest.h>

#include "capture/outbox/outbox_drainer.h"
#include "capture/shared/source_tables.h"
#include "outbox/outbox_support.h"
#include "pipeline/make_change_sink.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using capture::outbox::OutboxDrainer;

struct Drainer {
  explicit Drainer(const config::Config& cfg)
      : tables(capture::open_source_tables(cfg)),
        sink(pipeline::make_change_sink(cfg, nullptr)),
        drainer(tables.source, capture::outbox::outbox_names(cfg), capture::outbox::payload_of(cfg.outbox),
                tables.table_ptrs(), *sink, cfg.outbox.batch_size) {}
  capture::SourceTables tables;
  std::unique_ptr<pipeline::ChangeSink> sink;
  OutboxDrainer drainer;
};

// Events: 1..3 insert rows 1..3, 4 truncates, 5 inserts row 10.
void queue_insert_truncate_insert(TestDatabase& db) {
  db.pg_exec("INSERT INTO t VALUES (1, 'a')");
  db.pg_exec("INSERT INTO t VALUES (2, 'b')");
  db.pg_exec("INSERT INTO t VALUES (3, 'c')");
  db.pg_exec("TRUNCATE t");
  db.pg_exec("INSERT INTO t VALUES (10, 'after')");
  ASSERT_EQ(db.pg_rows("SELECT string_agg(op::text, '' ORDER BY id) FROM pg2ch.events"), (Rows{{"IIITI"}}));
}

TEST(OutboxTruncateOrder, TruncateWaitsForEarlierEventsAnotherDrainerHolds) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  const auto cfg = outbox_config(db, {"public.t"});
  outbox_setup(cfg);
  queue_insert_truncate_insert(db);
  Drainer d(cfg);

  auto other = db.pg_connect();  // "another drainer" holding the first two inserts
  other.exec("BEGIN");
  other.exec("SELECT id FROM pg2ch.events ORDER BY id LIMIT 2 FOR UPDATE");
  EXPECT_EQ(d.drainer.drain_once(), OutboxDrainer::Outcome::Blocked);
  EXPECT_EQ(events_waiting(db, cfg), "5") << "a blocked claim is rolled back";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t"), (Rows{{"0"}})) << "nothing written ahead of the truncate";

  other.exec("ROLLBACK");
  EXPECT_EQ(d.drainer.drain_once(), OutboxDrainer::Outcome::Drained);
  EXPECT_EQ(events_waiting(db, cfg), "0");
  EXPECT_EQ(db.ch_rows("SELECT id, v FROM t FINAL WHERE _deleted = 0"), (Rows{{"10", "after"}}));
  EXPECT_EQ(d.drainer.drain_once(), OutboxDrainer::Outcome::Empty);
}

TEST(OutboxTruncateOrder, EventsAfterATruncateWaitForIt) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  const auto cfg = outbox_config(db, {"public.t"});
  outbox_setup(cfg);
  queue_insert_truncate_insert(db);
  Drainer d(cfg);

  auto other = db.pg_connect();  // "another drainer" holding the truncate
  other.exec("BEGIN");
  other.exec("SELECT id FROM pg2ch.events WHERE op = 'T' FOR UPDATE");
  EXPECT_EQ(d.drainer.drain_once(), OutboxDrainer::Outcome::Blocked);
  EXPECT_EQ(d.drainer.stats().blocked, 1u);
  other.exec("ROLLBACK");
  while (d.drainer.drain_once() == OutboxDrainer::Outcome::Drained) {
  }
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
}

}  // namespace
}  // namespace pg2ch::test
