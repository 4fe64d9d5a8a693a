// pg2ch drops only a replication slot it provably made. A slot of the configured name that another
// tool or consumer created (another plugin, or pgoutput with no record in pg2ch's state) stops
// `run` and `teardown` with an error saying whose it may be, and stays as it was. Before, `run`
// called any such slot "left from an unfinished snapshot" and dropped it: another consumer's
// replication destroyed.
#include <gtest/gtest.h>

#include "support/cli_outcome.h"

namespace pg2ch::test {
namespace {

constexpr int kConfigExit = 2;  // service/exit_codes.h: configuration

Rows slot_plugin(TestDatabase& db, const std::string& slot) {
  return db.pg_rows("SELECT plugin FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
}

TEST(SlotOwnership, AnotherPluginsSlotOfTheSameNameIsNeverDropped) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int)");
  const auto cfg = make_test_config(db, {"public.t"});
  db.pg_exec("SELECT pg_create_logical_replication_slot('" + cfg.logical.slot + "', 'test_decoding')");

  for (const std::string command : {"run", "teardown"}) {
    expect_one_line_error(run_cli(db, cfg, command),
                          {cfg.logical.slot, "is not pg2ch's", "plugin 'test_decoding'", "logical.slot"}, kConfigExit);
    EXPECT_EQ(slot_plugin(db, cfg.logical.slot), Rows{{"test_decoding"}}) << "after " << command;
  }
}

TEST(SlotOwnership, AnotherConsumersPgoutputSlotIsNeverDropped) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v int)");
  const auto cfg = make_test_config(db, {"public.t"});
  db.pg_exec("SELECT pg_create_logical_replication_slot('" + cfg.logical.slot + "', 'pgoutput')");

  expect_one_line_error(run_cli(db, cfg, "run"),
                        {cfg.logical.slot, "no record of creating it", "pg_drop_replication_slot", "logical.slot"},
                        kConfigExit);
  expect_one_line_error(run_cli(db, cfg, "teardown"), {cfg.logical.slot, "was not created by pipeline"}, kConfigExit);
  EXPECT_EQ(slot_plugin(db, cfg.logical.slot), Rows{{"pgoutput"}});
}

}  // namespace
}  // namespace pg2ch::test
