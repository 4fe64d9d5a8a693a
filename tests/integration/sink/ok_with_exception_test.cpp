// An HTTP 200 is not a success when it carries a ClickHouse exception: a proxy that relays a failed
// INSERT as 200 with the exception as its body (as ClickHouse itself answers once it has started a
// response) must neither finish the initial copy nor move the slot past rows ClickHouse never got.
#include <gtest/gtest.h>

#include "support/clickhouse_relay.h"
#include "support/fixture.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

config::Config through(const ClickHouseRelay& relay, const TestDatabase& db) {
  auto cfg = make_test_config(db, {"public.t"});
  cfg.clickhouse.port = relay.port();
  cfg.batch.max_delay = 100ms;
  cfg.service.retry_initial = 200ms;
  cfg.service.retry_max = 1s;
  return cfg;
}

TEST(ClickHouseAnswers, AnInitialCopyAnsweredOkWithAnExceptionIsNotDone) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g");
  ClickHouseRelay relay(ch_server().port);
  relay.fail_inserts_with_ok(true);
  {
    // In-process there is no run driver to retry: the error ends this run (`pg2ch run` retries it).
    PipelineRunner runner(through(relay, db));
    runner.expect_failure();
    ASSERT_TRUE(wait_until([&] { return runner.failed() || runner.ready(); }, 60s));
    ASSERT_FALSE(runner.ready()) << "the initial copy was called done while ClickHouse had none of its rows";
    try {
      runner.stop();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("code 241"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("copy of public.t"), std::string::npos) << e.what();
      EXPECT_TRUE(e.retriable()) << e.what();
    }
  }
  EXPECT_GE(relay.inserts_failed_with_ok(), 1);
  relay.fail_inserts_with_ok(false);
  // The next run finds the copy unfinished and resumes it (its ranges, none of them done).
  PipelineRunner runner(through(relay, db));
  runner.wait_ready();
  db.pg_exec("INSERT INTO t VALUES (1001, 'after')");
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
}

TEST(ClickHouseAnswers, AStreamedBatchAnsweredOkWithAnExceptionIsSentAgain) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  ClickHouseRelay relay(ch_server().port);
  PipelineRunner runner(through(relay, db));
  runner.wait_ready();
  relay.fail_inserts_with_ok(true);
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
  ASSERT_TRUE(wait_until([&] { return relay.inserts_failed_with_ok() >= 2; }, 30s))
      << "the batch was not sent again after a 200 carrying an exception";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t"), Rows{{"0"}});
  relay.fail_inserts_with_ok(false);
  // Had the first answer counted, the slot would have moved past these rows: nothing sends them again.
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
}

}  // namespace
}  // namespace pg2ch::test
