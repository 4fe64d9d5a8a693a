// state.store = "postgres": the state table in the source database.
#include "state/pg_state_store.h"

#include <gtest/gtest.h>

#include "poll/poll_support.h"
#include "state/open_state_store.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(PollPgStateStore, RoundTripAcrossReopen) {
  auto db = make_test_database();
  {
    state::PgStateStore s(db.pg_connect(), "pg2ch_meta", "one");
    EXPECT_FALSE(s.get("k"));
    s.put({{"k", "v1"}, {"watermark.public.t", "v1 2:id 2:42"}});
    s.put({{"k", "it's \"quoted\"\n"}});
    EXPECT_EQ(s.get("k"), "it's \"quoted\"\n");
    s.erase("watermark.public.t");
    EXPECT_FALSE(s.get("watermark.public.t"));
    state::PgStateStore other(db.pg_connect(), "pg2ch_meta", "two");
    other.put({{"k", "other pipeline"}});
  }
  state::PgStateStore reopened(db.pg_connect(), "pg2ch_meta", "one");
  EXPECT_EQ(reopened.get("k"), "it's \"quoted\"\n");
  EXPECT_FALSE(reopened.get("watermark.public.t"));
  EXPECT_EQ(db.pg_rows("SELECT pipeline, key, value FROM pg2ch_meta.state ORDER BY pipeline, key"),
            (Rows{{"one", "k", "it's \"quoted\"\n"}, {"two", "k", "other pipeline"}}));
}

TEST(PollPgStateStore, PollPipelineKeepsItsCheckpointInTheSource) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id bigserial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t (v) SELECT 'x' || g FROM generate_series(1, 100) g");
  auto cfg = watermark_config(db, "poll", "t", "id");
  cfg.state.store = "postgres";
  cfg.outbox.schema = "pg2ch_state";
  {
    PipelineRunner runner(cfg);
    ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
    ASSERT_TRUE(wait_until(
        [&] {
          return db.pg_rows("SELECT value FROM pg2ch_state.state WHERE pipeline = '" + cfg.name +
                            "' AND key = 'watermark.public.t'") == Rows{{"v1 2:id 3:100"}};
        },
        30s));
    runner.stop();
  }
  auto store = state::open_state_store(cfg);
  EXPECT_EQ(store->get("watermark.public.t"), "v1 2:id 3:100");
}

}  // namespace
}  // namespace pg2ch::test
