// mode = "poll" on a partitioned table named as one table: one target for all its partitions, a
// partition (and a default one) created later included without a restart, since the poll reads
// the partitioned table itself. (Deletes, and so a row an UPDATE of the partition key moves to
// another key, are not captured in poll mode at all: README "Polling".)
#include <gtest/gtest.h>

#include "poll/poll_support.h"
#include "support/background_writer.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

TEST(PollPartitioned, OneTargetForEveryPartitionThoseCreatedLaterIncluded) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE sales (id bigint NOT NULL, region text NOT NULL, v text, "
             "updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (id, region)) PARTITION BY LIST (region)");
  db.pg_exec("CREATE TABLE sales_eu PARTITION OF sales FOR VALUES IN ('eu')");
  db.pg_exec("CREATE TABLE sales_us PARTITION OF sales FOR VALUES IN ('us') PARTITION BY HASH (id)");
  db.pg_exec("CREATE TABLE sales_us_0 PARTITION OF sales_us FOR VALUES WITH (MODULUS 2, REMAINDER 0)");
  db.pg_exec("CREATE TABLE sales_us_1 PARTITION OF sales_us FOR VALUES WITH (MODULUS 2, REMAINDER 1)");
  db.pg_exec("CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS "
             "$$ BEGIN NEW.updated_at = clock_timestamp(); RETURN NEW; END $$");
  db.pg_exec("CREATE TRIGGER sales_touch BEFORE UPDATE ON sales FOR EACH ROW EXECUTE FUNCTION touch_updated_at()");
  db.pg_exec("INSERT INTO sales (id, region, v) SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'v' || g "
             "FROM generate_series(1, 3000) g");
  PipelineRunner runner(watermark_config(db, "poll", "sales", "updated_at"));
  const auto q = same_columns("sales", "id, region, v", "id, region");
  ASSERT_TRUE(wait_equal(db, q)) << "initial rows of every partition";

  BackgroundWriter writer(db, [](pg::Connection& c, int i) {
    c.exec("UPDATE sales SET v = 'u" + std::to_string(i) + "' WHERE id = " + std::to_string(1 + (i * 37) % 3000));
    c.exec("INSERT INTO sales (id, region, v) VALUES (" + std::to_string(10000 + i) + ", '" +
           (i % 2 == 0 ? "eu" : "us") + "', 'new')");
  }, std::chrono::milliseconds(5));
  db.pg_exec("CREATE TABLE sales_asia PARTITION OF sales FOR VALUES IN ('asia')");
  db.pg_exec("CREATE TABLE sales_other PARTITION OF sales DEFAULT");
  db.pg_exec("INSERT INTO sales (id, region, v) SELECT g, 'asia', 'a' || g FROM generate_series(1, 500) g");
  db.pg_exec("INSERT INTO sales (id, region, v) SELECT g, 'mars', 'm' || g FROM generate_series(1, 300) g");
  db.pg_exec("UPDATE sales SET v = v || '!' WHERE region IN ('asia', 'mars') AND id % 7 = 0");
  writer.finish();
  EXPECT_TRUE(wait_equal(db, q)) << "rows of the partitions created later, and the writer's";
  EXPECT_EQ(db.ch_rows("SELECT count() FROM sales FINAL WHERE region = 'mars'"), (Rows{{"300"}}));
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
