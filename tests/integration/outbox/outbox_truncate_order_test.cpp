// TRUNCATE between drainers, made deterministic: a test session locks events the way another
// drainer's claim would, and one OutboxDrainer must wait instead of truncating ahead of earlier
// events (which would then resurrect rows) or yield instead of writing rows ahead of a truncate
// (which would then wipe them).
#include <gtest/gtest.h>

#include <future>

#include "capture/outbox/outbox_drainer.h"
#include "capture/shared/source_tables.h"
#include "outbox/outbox_support.h"
#include "pipeline/make_change_sink.h"
#include "state/open_state_store.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using capture::outbox::OutboxDrainer;

struct Drainer {
  explicit Drainer(const config::Config& cfg)
      : tables(capture::open_source_tables(cfg)),
        sink(pipeline::make_change_sink(cfg, nullptr)),
        state(state::open_state_store(cfg)),
        states(*state, tables.table_ptrs()),
        drainer(tables.source, capture::outbox::outbox_names(cfg), capture::outbox::payload_of(cfg.outbox),
                tables.table_ptrs(), *sink, cfg.outbox.batch_size, states) {}
  capture::SourceTables tables;
  std::unique_ptr<pipeline::ChangeSink> sink;
  std::unique_ptr<state::StateStore> state;
  capture::table_sync::TableStates states;
  OutboxDrainer drainer;
};

// Events: inserts of rows 1..3, a truncate (in its own table), an insert of row 10.
void queue_insert_truncate_insert(TestDatabase& db) {
  db.pg_exec("INSERT INTO t VALUES (1, 'a')");
  db.pg_exec("INSERT INTO t VALUES (2, 'b')");
  db.pg_exec("INSERT INTO t VALUES (3, 'c')");
  db.pg_exec("TRUNCATE t");
  db.pg_exec("INSERT INTO t VALUES (10, 'after')");
  ASSERT_EQ(db.pg_rows("SELECT string_agg(op::text, '' ORDER BY lsn) FROM pg2ch.events"), (Rows{{"IIII"}}));
  ASSERT_EQ(db.pg_rows("SELECT count(*) FROM pg2ch.events e, pg2ch.events_truncates tr WHERE e.lsn < tr.lsn"),
            (Rows{{"3"}}));
}

TEST(OutboxTruncateOrder, TruncateWaitsForEarlierEventsAnotherDrainerHolds) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  const auto cfg = outbox_config(db, {"public.t"});
  outbox_setup(cfg);
  queue_insert_truncate_insert(db);
  Drainer d(cfg);

  auto other = db.pg_connect();  // "another drainer" holding two of the earlier inserts
  other.exec("BEGIN");
  other.exec("SELECT ctid FROM pg2ch.events ORDER BY lsn LIMIT 2 FOR UPDATE");
  auto drained = std::async(std::launch::async, [&] { return d.drainer.drain_once(); });
  EXPECT_EQ(drained.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout)
      << "the truncate waits for the events another drainer holds";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t"), (Rows{{"0"}})) << "nothing written ahead of the truncate";

  other.exec("ROLLBACK");  // that drainer failed: its events are the truncate's to discard
  EXPECT_EQ(drained.get(), OutboxDrainer::Outcome::Drained);
  EXPECT_EQ(d.drainer.stats().truncates, 1u);
  EXPECT_EQ(events_waiting(db, cfg), "1") << "only the insert after the truncate is left";
  EXPECT_EQ(d.drainer.drain_once(), OutboxDrainer::Outcome::Drained);
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
  other.exec("SELECT ctid FROM pg2ch.events_truncates FOR UPDATE");
  EXPECT_EQ(d.drainer.drain_once(), OutboxDrainer::Outcome::Blocked);
  EXPECT_EQ(d.drainer.stats().blocked, 1u);
  other.exec("ROLLBACK");
  while (d.drainer.drain_once() == OutboxDrainer::Outcome::Drained) {
  }
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
}

}  // namespace
}  // namespace pg2ch::test
