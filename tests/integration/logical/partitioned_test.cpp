// Partitioned tables in the logical capture (capture/logical/partition_watch.h): one target for
// all partitions at any depth, including a default partition and partitions created or attached
// while the pipeline runs; rows moved between partitions by an UPDATE of the partition key; a
// TRUNCATE of one partition (which pgoutput does not send) removing exactly its rows; resync,
// status and verify on the partitioned table; a partition named beside its partitioned table
// refused. Each runs under a concurrent writer and ends equal row by row.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <random>
#include <thread>

#include "support/background_writer.h"
#include "support/partition_changes.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// m: LIST (region) → us | eu, itself RANGE (id) → eu_low | eu_high | default (anything else).
void create_partitioned(TestDatabase& db) {
  db.pg_exec("CREATE TABLE m (id int NOT NULL, region text NOT NULL, v text, n int, PRIMARY KEY (id, region)) "
             "PARTITION BY LIST (region)");
  db.pg_exec("CREATE TABLE m_us PARTITION OF m FOR VALUES IN ('us')");
  db.pg_exec("CREATE TABLE m_eu PARTITION OF m FOR VALUES IN ('eu') PARTITION BY RANGE (id)");
  db.pg_exec("CREATE TABLE m_eu_low PARTITION OF m_eu FOR VALUES FROM (MINVALUE) TO (5000)");
  db.pg_exec("CREATE TABLE m_eu_high PARTITION OF m_eu FOR VALUES FROM (5000) TO (MAXVALUE)");
  db.pg_exec("CREATE TABLE m_other PARTITION OF m DEFAULT");
  db.pg_exec("INSERT INTO m SELECT g, (ARRAY['us', 'eu', 'jp'])[1 + g % 3], 'v' || g, 0 FROM generate_series(1, 9000) g");
}

// Inserts into every partition, updates in place, moves rows to another partition by changing
// their region, deletes; one transaction per step.
BackgroundWriter writer(TestDatabase& db) {
  return BackgroundWriter(
      db,
      [rng = std::mt19937(11)](pg::Connection& conn, int i) mutable {
        static const char* regions[] = {"us", "eu", "jp", "br"};
        const int id = static_cast<int>(rng() % 9000u) + 1;
        const std::string region = regions[rng() % 4u];
        const std::string to = regions[rng() % 4u];
        conn.exec("BEGIN");
        conn.exec("INSERT INTO m VALUES (" + std::to_string(20000 + i) + ", '" + region + "', 'w', " +
                  std::to_string(i) + ") ON CONFLICT DO NOTHING");
        // Rows of regions 'ca' and 'mx' arrive only by ATTACH: the writer leaves them be.
        conn.exec("UPDATE m SET n = n + 1, v = 'u" + std::to_string(i) + "' WHERE region NOT IN ('ca', 'mx') AND id = " +
                  std::to_string(id));
        if (i % 2 == 0) {
          const std::string moved = std::to_string(id + 1);
          conn.exec("UPDATE m SET region = '" + to + "' WHERE (id, region) = (SELECT id, region FROM m WHERE id = " +
                    moved + " AND region NOT IN ('ca', 'mx', '" + to + "') LIMIT 1) AND NOT EXISTS (SELECT 1 FROM m WHERE id = " + moved +
                    " AND region = '" + to + "')");
        }
        if (i % 5 == 0) conn.exec("DELETE FROM m WHERE region NOT IN ('ca', 'mx') AND id = " + std::to_string(id + 2));
        conn.exec("COMMIT");
      },
      2ms);
}

struct Fixture {
  Fixture() : db(make_test_database()) {
    create_partitioned(db);
    db.pg_exec("CREATE TABLE other (id serial PRIMARY KEY, v text)");
    cfg = make_test_config(db, {"public.m", "public.other"});
    config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  }
  std::string state_of(const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config_file, "status", /*attention_ok=*/true), table).state;
  }
  TestDatabase db;
  config::Config cfg;
  std::filesystem::path config_file;
  const TableQuery m_rows = same_columns("m", "id, region, v, n", "id, region");
};

TEST(LogicalPartitioned, APartitionedTableArrivesAsOneTargetWithPartitionsCreatedAndAttachedLater) {
  Fixture f;
  PipelineRunner runner(f.cfg);
  ASSERT_TRUE(wait_equal(f.db, f.m_rows)) << "the initial copy holds every partition's rows";
  EXPECT_EQ(f.db.ch_rows("EXISTS TABLE m_us"), (Rows{{"0"}})) << "no target per partition";

  auto w = writer(f.db);
  std::this_thread::sleep_for(500ms);
  // Created while streaming: its rows arrive under m (the default partition gives its 'br' rows up
  // first, hence the DETACH/ATTACH dance PostgreSQL needs for a new list value).
  f.db.pg_exec("BEGIN; ALTER TABLE m DETACH PARTITION m_other; "
               "CREATE TABLE m_br PARTITION OF m FOR VALUES IN ('br'); "
               "INSERT INTO m_br SELECT * FROM m_other WHERE region = 'br'; "
               "DELETE FROM m_other WHERE region = 'br'; "
               "ALTER TABLE m ATTACH PARTITION m_other DEFAULT; COMMIT");
  f.db.pg_exec("INSERT INTO m SELECT g, 'br', 'created later', 0 FROM generate_series(500001, 500100) g");
  // Attached with rows already in it: they never pass through the stream, the table is copied again.
  f.db.pg_exec("CREATE TABLE m_ca (LIKE m INCLUDING ALL)");
  f.db.pg_exec("INSERT INTO m_ca SELECT g, 'ca', 'attached', 0 FROM generate_series(1, 700) g");
  f.db.pg_exec("BEGIN; ALTER TABLE m DETACH PARTITION m_other; "
               "ALTER TABLE m ATTACH PARTITION m_ca FOR VALUES IN ('ca'); "
               "ALTER TABLE m ATTACH PARTITION m_other DEFAULT; COMMIT");
  ASSERT_TRUE(wait_until([&] { return f.db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region = 'ca'") == Rows{{"700"}}; },
                         120s))
      << runner.describe();
  std::this_thread::sleep_for(500ms);
  w.finish();
  EXPECT_TRUE(wait_equal(f.db, f.m_rows));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  EXPECT_TRUE(wait_until([&] { return f.state_of("public.m") == "streaming"; }, 60s));

  // status counts the partitioned table's rows; verify compares them row by row.
  const auto status = pg2ch_status_json(f.db, f.config_file, "status", /*attention_ok=*/true);
  for (const auto& t : status["tables"].GetArray()) {
    if (std::string(t["table"].GetString()) != "public.m") continue;
    EXPECT_EQ(t["source_rows"].GetInt64(), std::stoll(f.db.pg_rows("SELECT count(*) FROM m")[0][0]));
  }
  auto verify = pg2ch_cli(f.db, f.config_file, {"verify", "--settle-ms", "0", "public.m"}, "verify");
  EXPECT_EQ(verify.wait(120s), 0) << verify.describe();
  runner.stop();
}

TEST(LogicalPartitioned, ATruncateOfOnePartitionRemovesExactlyItsRows) {
  Fixture f;
  PipelineRunner runner(f.cfg);
  ASSERT_TRUE(wait_equal(f.db, f.m_rows));
  auto w = writer(f.db);
  std::this_thread::sleep_for(500ms);
  // A leaf, then a partitioned partition (both levels of its leaves), then one in a transaction
  // that writes on before and after it.
  f.db.pg_exec("TRUNCATE m_us");
  std::this_thread::sleep_for(1s);  // its copy again runs meanwhile, under the writer
  f.db.pg_exec("TRUNCATE m_eu");
  f.db.pg_exec("BEGIN; INSERT INTO m VALUES (40001, 'jp', 'before', 0); TRUNCATE m_other; "
               "INSERT INTO m VALUES (40002, 'jp', 'after', 0); COMMIT");
  std::this_thread::sleep_for(1s);
  w.finish();
  EXPECT_TRUE(wait_equal(f.db, f.m_rows, 120s));
  // The whole table, then rows again: pgoutput sends this TRUNCATE itself.
  f.db.pg_exec("TRUNCATE m");
  f.db.pg_exec("INSERT INTO m VALUES (1, 'us', 'again', 1), (2, 'eu', 'again', 2), (3, 'jp', 'again', 3)");
  EXPECT_TRUE(wait_equal(f.db, f.m_rows));
  EXPECT_TRUE(wait_until([&] { return f.state_of("public.m") == "streaming"; }, 60s));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

TEST(LogicalPartitioned, AResyncOfThePartitionedTableEndsEqualWhileItStreams) {
  Fixture f;
  PipelineRunner runner(f.cfg);
  ASSERT_TRUE(wait_equal(f.db, f.m_rows));
  f.db.ch_exec("INSERT INTO m (id, region, v, n, _version, _deleted) VALUES (-1, 'us', 'never in PostgreSQL', 0, 1, 0)");
  auto w = writer(f.db);
  std::this_thread::sleep_for(300ms);
  auto r = pg2ch_cli(f.db, f.config_file, {"resync", "public.m"}, "resync");
  ASSERT_EQ(r.wait(60s), 0) << r.describe();
  ASSERT_TRUE(wait_until([&] { return f.db.ch_rows("SELECT count() FROM m WHERE id = -1") == Rows{{"0"}}; }, 60s));
  ASSERT_TRUE(wait_until([&] { return f.state_of("public.m") == "streaming"; }, 120s));
  std::this_thread::sleep_for(500ms);
  w.finish();
  EXPECT_TRUE(wait_equal(f.db, f.m_rows));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// While pg2ch was stopped: a partition truncated (its message waits in the slot) and one attached
// with rows (found at start without its trigger): both copy the table again at the next start.
TEST(LogicalPartitioned, PartitionsTruncatedOrAttachedWhilePg2chWasStoppedEndEqual) {
  Fixture f;
  {
    PipelineRunner runner(f.cfg);
    ASSERT_TRUE(wait_equal(f.db, f.m_rows));
    runner.stop();
  }
  f.db.pg_exec("TRUNCATE m_eu_low");
  f.db.pg_exec("CREATE TABLE m_ca (LIKE m INCLUDING ALL)");
  f.db.pg_exec("INSERT INTO m_ca SELECT g, 'ca', 'attached', 0 FROM generate_series(1, 300) g");
  f.db.pg_exec("BEGIN; ALTER TABLE m DETACH PARTITION m_other; "
               "ALTER TABLE m ATTACH PARTITION m_ca FOR VALUES IN ('ca'); "
               "ALTER TABLE m ATTACH PARTITION m_other DEFAULT; COMMIT");
  auto w = writer(f.db);
  PipelineRunner runner(f.cfg);
  std::this_thread::sleep_for(2s);
  w.finish();
  EXPECT_TRUE(wait_equal(f.db, f.m_rows, 120s));
  EXPECT_EQ(f.db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region = 'ca'"), (Rows{{"300"}}));
  EXPECT_TRUE(wait_until([&] { return f.state_of("public.m") == "streaming"; }, 60s));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// A table created, filled and attached in one transaction looks created as a partition (its row
// type and pg_inherits row share the xmin), but the rows written before its ATTACH never passed
// through the stream (pgoutput published the table only from the ATTACH on): while running, the
// watch finds them (partition_watch.h) and the table is copied again; while pg2ch was stopped, the
// partition is found at the start without its trigger, as any attached one.
TEST(LogicalPartitioned, APartitionCreatedFilledAndAttachedInOneTransactionIsCopiedWhileRunningAndAtTheNextStart) {
  Fixture f;
  std::optional<PipelineRunner> runner(std::in_place, f.cfg);
  ASSERT_TRUE(wait_equal(f.db, f.m_rows)) << "the initial copy";
  auto w = writer(f.db);
  std::this_thread::sleep_for(500ms);
  f.db.pg_exec(create_fill_attach("m", "ca", 700, "0"));
  const TableQuery ca{"SELECT id, region, v, n FROM m WHERE region = 'ca' ORDER BY id",
                      "SELECT id, region, v, n FROM m FINAL WHERE _deleted = 0 AND region = 'ca' ORDER BY id"};
  EXPECT_TRUE(wait_equal(f.db, ca, 60s)) << "created, filled and attached, pg2ch running";
  runner->stop();
  runner.reset();

  f.db.pg_exec(create_fill_attach("m", "mx", 300, "0"));
  runner.emplace(f.cfg);
  std::this_thread::sleep_for(2s);
  w.finish();
  EXPECT_TRUE(wait_equal(f.db, f.m_rows, 120s)) << "created, filled and attached, pg2ch stopped";
  EXPECT_EQ(f.db.ch_rows("SELECT count() FROM m FINAL WHERE _deleted = 0 AND region IN ('ca', 'mx')"), (Rows{{"1000"}}));
  EXPECT_TRUE(wait_until([&] { return f.state_of("public.m") == "streaming"; }, 60s));
  EXPECT_FALSE(runner->failed()) << runner->describe();
  runner->stop();
}

// A partitioned table created under `schema.*` while running joins like any table (copied, then
// streamed; its partitions never match the wildcard), and a column added to it streams on in place.
TEST(LogicalPartitioned, APartitionedTableCreatedUnderAWildcardJoinsAndAColumnAddedStreamsOn) {
  auto db = make_test_database();
  db.pg_exec("CREATE SCHEMA shop");
  db.pg_exec("CREATE TABLE shop.plain (id serial PRIMARY KEY, v text)");
  auto cfg = make_test_config(db, {"shop.*"});
  const auto config_file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  PipelineRunner runner(cfg);
  runner.wait_ready();
  std::atomic<bool> joined{false};
  BackgroundWriter w(db, [&](pg::Connection& conn, int i) {
    conn.exec("INSERT INTO shop.plain (v) VALUES ('w" + std::to_string(i) + "')");
    if (!joined) return;
    conn.exec("INSERT INTO shop.p (id, at, v) VALUES (" + std::to_string(100000 + i) + ", '2024-0" +
              std::to_string(1 + i % 2) + "-15', 'w')");
    conn.exec("UPDATE shop.p SET at = '2024-02-10' WHERE id = " + std::to_string(1 + i % 500) + " AND at < '2024-02-01'");
  });
  db.pg_exec("CREATE TABLE shop.p (id int, at date, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)");
  db.pg_exec("CREATE TABLE shop.p_jan PARTITION OF shop.p FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')");
  db.pg_exec("CREATE TABLE shop.p_feb PARTITION OF shop.p FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')");
  db.pg_exec("INSERT INTO shop.p SELECT g, '2024-01-01'::date + g % 50, 'v' FROM generate_series(1, 2000) g");
  joined = true;
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config_file, "shop.p") == "streaming "; }, 60s))
      << pg2ch_table_state(db, config_file, "shop.p");
  EXPECT_EQ(pg2ch_table_state(db, config_file, "shop.p_jan"), "(not listed)");
  db.pg_exec("ALTER TABLE shop.p ADD COLUMN extra int");
  db.pg_exec("INSERT INTO shop.p VALUES (900001, '2024-02-02', 'with extra', 7)");
  std::this_thread::sleep_for(500ms);
  w.finish();
  EXPECT_TRUE(wait_equal(db, {"SELECT id, at, v, extra FROM shop.p ORDER BY id, at",
                              "SELECT id, at, v, extra FROM p FINAL WHERE _deleted = 0 ORDER BY id, at"}));
  EXPECT_TRUE(wait_equal(db, {"SELECT id, v FROM shop.plain ORDER BY id",
                              "SELECT id, v FROM plain FINAL WHERE _deleted = 0 ORDER BY id"}));
  EXPECT_EQ(pg2ch_table_state(db, config_file, "shop.p"), "streaming ");
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

// Large enough to be copied partition by partition (snapshot_copier.h), in parallel, at the
// start and by a resync under the writer.
TEST(LogicalPartitioned, ALargePartitionedTableIsCopiedPartitionByPartition) {
  Fixture f;
  f.db.pg_exec("INSERT INTO m SELECT g, (ARRAY['us', 'eu', 'jp'])[1 + g % 3], repeat('x', 120), 0 "
               "FROM generate_series(100001, 300000) g");
  PipelineRunner runner(f.cfg);
  ASSERT_TRUE(wait_equal(f.db, f.m_rows, 120s));
  auto w = writer(f.db);
  auto r = pg2ch_cli(f.db, f.config_file, {"resync", "public.m"}, "resync");
  ASSERT_EQ(r.wait(60s), 0) << r.describe();
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(wait_until([&] { return f.state_of("public.m") == "streaming"; }, 120s));
  w.finish();
  EXPECT_TRUE(wait_equal(f.db, f.m_rows, 120s));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

TEST(LogicalPartitioned, APartitionNamedBesideItsPartitionedTableIsRefused) {
  auto db = make_test_database();
  create_partitioned(db);
  auto both = make_test_config(db, {"public.m", "public.m_eu_low"});
  auto setup = pg2ch_cli(db, write_config_file(both, db.dir() / "both.toml"), {"setup"}, "setup");
  EXPECT_NE(setup.wait(60s), 0);
  EXPECT_NE(setup.stderr_text().find("public.m_eu_low is a partition of public.m"), std::string::npos)
      << setup.describe();

  // Without a primary key: REPLICA IDENTITY FULL on the partitioned table is not its partitions';
  // publishing it would break their UPDATEs and DELETEs, so setup names the partition.
  db.pg_exec("CREATE TABLE k (a int NOT NULL, b text NOT NULL) PARTITION BY LIST (b)");
  db.pg_exec("CREATE TABLE k_x PARTITION OF k FOR VALUES IN ('x')");
  db.pg_exec("ALTER TABLE k REPLICA IDENTITY FULL");
  auto keyless = make_test_config(db, {"public.k"});
  keyless.tables[0].key = {"a"};
  auto refused = pg2ch_cli(db, write_config_file(keyless, db.dir() / "keyless.toml"), {"setup"}, "setup-keyless");
  EXPECT_NE(refused.wait(60s), 0);
  EXPECT_NE(refused.stderr_text().find("table public.k_x has no primary key"), std::string::npos)
      << refused.describe();

  // The trigger modes take the partitioned table as one table too (NotifyPartitioned,
  // OutboxPartitioned; poll: PollPartitioned): setup accepts it.
  auto in_notify = make_test_config(db, {"public.m"});
  in_notify.mode = "notify";
  in_notify.poll.watermark = "id";
  in_notify.notify.channel = db.name();
  auto notify_setup =
      pg2ch_cli(db, write_config_file(in_notify, db.dir() / "notify.toml"), {"setup"}, "setup-notify");
  EXPECT_EQ(notify_setup.wait(60s), 0) << notify_setup.describe();

  // Named alone (its partitioned table not replicated): it is a table of its own, rows once.
  auto alone = make_test_config(db, {"public.m_eu", "public.m_us"});
  PipelineRunner runner(alone);
  auto w = writer(db);
  std::this_thread::sleep_for(1s);
  w.finish();
  EXPECT_TRUE(wait_equal(db, same_columns("m_eu", "id, region, v, n", "id")));
  EXPECT_TRUE(wait_equal(db, same_columns("m_us", "id, region, v, n", "id")));
  EXPECT_FALSE(runner.failed()) << runner.describe();
  runner.stop();
}

}  // namespace
}  // namespace pg2ch::test
