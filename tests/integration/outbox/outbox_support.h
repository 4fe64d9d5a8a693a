#pragma once
// Shared setup for the outbox mode's integration tests: a config in outbox mode with a short
// idle interval, and `pg2ch setup` run in-process.
#include <string>
#include <vector>

#include "capture/capture_mode.h"
#include "support/test_config.h"
#include "support/test_database.h"

namespace pg2ch::test {

// `variant`: the payload ("key" | "row"), with "_statement" for statement-level triggers.
inline config::Config outbox_config(const TestDatabase& db, std::vector<std::string> tables,
                                    const std::string& variant = "key") {
  auto cfg = make_test_config(db, std::move(tables));
  cfg.mode = "outbox";
  const auto sep = variant.find('_');
  cfg.outbox.payload = variant.substr(0, sep);
  if (sep != std::string::npos) cfg.outbox.triggers = variant.substr(sep + 1);
  cfg.outbox.interval = std::chrono::milliseconds(50);
  return cfg;
}

// sales (id int, region text, v text, n int), key (id, region), partitioned by region: eu, and
// us sub-partitioned by hash (us_0, us_1); no rows.
inline void create_partitioned_sales(TestDatabase& db) {
  db.pg_exec("CREATE TABLE sales (id int NOT NULL, region text NOT NULL, v text, n int, PRIMARY KEY (id, region)) "
             "PARTITION BY LIST (region)");
  db.pg_exec("CREATE TABLE sales_eu PARTITION OF sales FOR VALUES IN ('eu')");
  db.pg_exec("CREATE TABLE sales_us PARTITION OF sales FOR VALUES IN ('us') PARTITION BY HASH (id)");
  db.pg_exec("CREATE TABLE sales_us_0 PARTITION OF sales_us FOR VALUES WITH (MODULUS 2, REMAINDER 0)");
  db.pg_exec("CREATE TABLE sales_us_1 PARTITION OF sales_us FOR VALUES WITH (MODULUS 2, REMAINDER 1)");
}

// create_partitioned_sales, a third region asia (a partition of its own), and 1000 rows in each
// region (ids 1..1000, v 'v<id>', n 0).
inline void create_sales_in_three_regions(TestDatabase& db) {
  create_partitioned_sales(db);
  db.pg_exec("CREATE TABLE sales_asia PARTITION OF sales FOR VALUES IN ('asia')");
  db.pg_exec("INSERT INTO sales SELECT g, r, 'v' || g, 0 FROM generate_series(1, 1000) g, "
             "unnest(ARRAY['eu', 'us', 'asia']) r");
}

inline void outbox_setup(const config::Config& cfg) { capture::capture_mode("outbox").setup(cfg); }

inline std::string events_waiting(TestDatabase& db, const config::Config& cfg) {
  return db.pg_rows("SELECT count(*) FROM " + cfg.outbox.schema + "." + cfg.outbox.table)[0][0];
}

}  // namespace pg2ch::test
