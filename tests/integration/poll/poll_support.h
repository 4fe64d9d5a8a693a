#pragma once
// Shared by the poll and notify integration tests: a table whose updated_at follows every write
// (the usual trigger), and configs for the watermark modes with short intervals.
#include <string>

#include "support/test_config.h"
#include "support/test_database.h"

namespace pg2ch::test {

// CREATE TABLE <name> (id bigserial PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now())
// with a BEFORE UPDATE trigger setting updated_at = now(), and an index on (updated_at, id).
inline void create_updated_at_table(TestDatabase& db, const std::string& name) {
  db.pg_exec("CREATE TABLE " + name +
             " (id bigserial PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now())");
  db.pg_exec("CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS "
             "$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$");
  db.pg_exec("CREATE TRIGGER " + name + "_touch BEFORE UPDATE ON " + name +
             " FOR EACH ROW EXECUTE FUNCTION touch_updated_at()");
  db.pg_exec("CREATE INDEX ON " + name + " (updated_at, id)");
}

// prices (id bigserial PRIMARY KEY, price numeric(10,2), updated_at following every write): a
// NaN price is a value its Decimal target cannot hold. After create_updated_at_table().
inline void create_prices_table(TestDatabase& db) {
  db.pg_exec("CREATE TABLE prices (id bigserial PRIMARY KEY, price numeric(10,2), "
             "updated_at timestamptz NOT NULL DEFAULT clock_timestamp())");
  db.pg_exec("CREATE TRIGGER prices_touch BEFORE UPDATE ON prices FOR EACH ROW EXECUTE FUNCTION touch_updated_at()");
}

// sales (id bigint, region text, v text, updated_at timestamptz following every write), key
// (id, region), partitioned by region: eu, and us sub-partitioned by hash (us_0, us_1); 3000
// rows, eu and us alternating.
inline void create_partitioned_sales_updated_at(TestDatabase& db) {
  db.pg_exec("CREATE TABLE sales (id bigint NOT NULL, region text NOT NULL, v text, "
             "updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (id, region)) "
             "PARTITION BY LIST (region)");
  db.pg_exec("CREATE TABLE sales_eu PARTITION OF sales FOR VALUES IN ('eu')");
  db.pg_exec("CREATE TABLE sales_us PARTITION OF sales FOR VALUES IN ('us') PARTITION BY HASH (id)");
  db.pg_exec("CREATE TABLE sales_us_0 PARTITION OF sales_us FOR VALUES WITH (MODULUS 2, REMAINDER 0)");
  db.pg_exec("CREATE TABLE sales_us_1 PARTITION OF sales_us FOR VALUES WITH (MODULUS 2, REMAINDER 1)");
  db.pg_exec("CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS "
             "$$ BEGIN NEW.updated_at = clock_timestamp(); RETURN NEW; END $$");
  db.pg_exec("CREATE TRIGGER sales_touch BEFORE UPDATE ON sales FOR EACH ROW EXECUTE FUNCTION touch_updated_at()");
  db.pg_exec("INSERT INTO sales (id, region, v) SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'v' || g "
             "FROM generate_series(1, 3000) g");
}

inline config::Config watermark_config(const TestDatabase& db, const std::string& mode, const std::string& table,
                                       const std::string& watermark) {
  auto cfg = make_test_config(db, {"public." + table});
  cfg.mode = mode;
  cfg.poll.watermark = watermark;
  cfg.poll.interval = std::chrono::milliseconds(100);
  cfg.poll.batch_size = 1000;
  cfg.notify.channel = db.name();
  return cfg;
}

}  // namespace pg2ch::test
