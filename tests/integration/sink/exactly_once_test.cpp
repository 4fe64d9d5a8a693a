// A batch that reaches ClickHouse twice (its first answer lost, or pg2ch killed before the
// acknowledgement) is written once where the server takes insert_deduplication_token (22.2+):
// count() without FINAL equals the source even before any merge.
#include <gtest/gtest.h>

#include "support/clickhouse_relay.h"
#include "support/fixture.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(ExactlyOnceInserts, ABatchSentAgainAfterItsAnswerWasLostIsWrittenOnce) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  ClickHouseRelay relay(ch_server().port);
  auto cfg = make_test_config(db, {"public.t"});
  cfg.clickhouse.port = relay.port();
  cfg.batch.max_delay = 100ms;
  PipelineRunner runner(cfg);
  runner.wait_ready();
  // Merges would fold the duplicate rows away and hide whether ClickHouse dropped the batch.
  db.ch_exec("SYSTEM STOP MERGES t");
  relay.arm();
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
  ASSERT_EQ(relay.answers_lost(), 1) << "the relay lost no answer: nothing was sent twice";
  runner.stop();

  const std::string written = db.ch_rows("SELECT count() FROM t")[0][0];
  if (db.ch().capabilities().insert_deduplication_token) {
    EXPECT_EQ(written, "100") << "the batch sent again was written a second time";
  } else {
    // 18.16 has no deduplication token: the batch is there twice until a merge folds it.
    EXPECT_EQ(written, "200");
  }
}

}  // namespace
}  // namespace pg2ch::test
