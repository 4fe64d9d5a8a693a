// `pg2ch ddl kafka-engine` end to end: the logical capture publishes Debezium envelopes into the
// mock broker, a real ClickHouse applies the printed recipe and its Kafka engine consumes them,
// and the ReplacingMergeTree target ends up equal to the PostgreSQL table.
//
// The ClickHouse here is a dedicated one (scripts/ch-local.sh in the test's directory), not the
// shared fixture server: before 21.1 the recipe needs format_csv_delimiter = tab in the server's
// default profile (see docs/kafka.md), a server-wide setting other tests must not see.
//
// Tombstones: ClickHouse 18.16's Kafka engine dereferences a null payload when a tombstone follows
// another message in one poll (segfault, reproduced by hand with kcat), so the producer runs with
// kafka.tombstones = false, as docs/kafka.md tells 18.16 users to.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "clickhouse/http_client.h"
#include "kafka/kafka_engine_ddl.h"
#include "support/child_process.h"
#include "support/command.h"
#include "support/kafka_broker.h"
#include "support/local_server.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/test_config.h"
#include "support/test_database.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// Same order and text on both sides: timestamps as the Int64 µs pg2ch stores on 18.16, text as
// hex so quotes, tabs and newlines compare byte for byte.
const char* const kPgSql =
    "SELECT id::text, big::text, price::text, upper(encode(convert_to(note, 'UTF8'), 'hex')), flag::int::text, "
    "day::text, (extract(epoch FROM at) * 1000000)::bigint::text, (extract(epoch FROM at_tz) * 1000000)::bigint::text, "
    "ratio::text, coalesce(array_to_json(tags)::text, '[]') FROM items ORDER BY items.id";
const char* const kChSql =
    "SELECT toString(id), toString(big), toString(price), hex(note), toString(flag), toString(day), "
    "toString(at), toString(at_tz), toString(ratio), replaceAll(toString(tags), 'NULL', 'null') "
    "FROM items FINAL WHERE _deleted = 0 ORDER BY id FORMAT TabSeparated";

Rows split_tsv(const std::string& body) {
  Rows rows;
  std::size_t start = 0;
  while (start < body.size()) {
    const auto eol = body.find('\n', start);
    const std::string line = body.substr(start, eol - start);
    start = eol == std::string::npos ? body.size() : eol + 1;
    std::vector<std::string> row;
    std::size_t f = 0;
    for (;;) {
      const auto tab = line.find('\t', f);
      row.push_back(line.substr(f, tab - f));
      if (tab == std::string::npos) break;
      f = tab + 1;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

bool slot_streaming(TestDatabase& db) {
  return db.pg_rows("SELECT count(*) FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid "
                    "WHERE s.slot_name = '" + db.name() + "' AND r.state = 'streaming'") == Rows{{"1"}};
}

// A ClickHouse of its own whose default profile carries the recipe's CSV delimiter, and whose
// Kafka consumers start at the beginning of a topic for a new group.
class KafkaClickHouse {
 public:
  explicit KafkaClickHouse(const std::filesystem::path& dir) : server_("ch-local.sh", dir) {
    std::filesystem::create_directories(dir / "users.d");
    std::filesystem::create_directories(dir / "config.d");
    std::ofstream(dir / "users.d" / "kafka_recipe.xml")
        << "<?xml version=\"1.0\"?>\n<yandex><profiles><default>"
           "<format_csv_delimiter>&#9;</format_csv_delimiter></default></profiles></yandex>\n";
    std::ofstream(dir / "config.d" / "kafka.xml")
        << "<?xml version=\"1.0\"?>\n<yandex><kafka><auto_offset_reset>smallest</auto_offset_reset></kafka></yandex>\n";
    port_ = std::stoi(server_.start().at("CH_PORT"));
  }
  ~KafkaClickHouse() { server_.stop(); }

  int port() const { return port_; }
  clickhouse::HttpClient client(const std::string& database) const {
    clickhouse::Endpoint e;
    e.port = port_;
    e.database = database;
    return clickhouse::HttpClient(e);
  }

 private:
  LocalServer server_;
  int port_ = 0;
};

TEST(KafkaEngine, ClickHouseConsumesTheEnvelopeIntoTheTarget) {
  auto db = make_test_database();
  db.pg_exec(
      "CREATE TABLE items (id int PRIMARY KEY, big bigint NOT NULL, price numeric(12,2), note text, flag bool, "
      "day date, at timestamp, at_tz timestamptz, ratio float8, tags int[])");
  KafkaBroker broker;
  broker.create_topic("pg2ch.public.items", 2);
  KafkaClickHouse ch(db.dir() / "kafka-clickhouse");
  auto target = ch.client("default");
  ASSERT_LT(target.capabilities().version.major, 21) << "this test covers the pre-21.1 recipe";

  auto cfg = make_test_config(db, {"public.items"});
  cfg.sink = "kafka";
  cfg.kafka.brokers = broker.bootstrap();
  cfg.kafka.tombstones = false;
  cfg.clickhouse.port = ch.port();
  cfg.clickhouse.password.clear();
  cfg.clickhouse.user = "default";
  const auto file = write_config_file(cfg, db.dir() / "pg2ch.toml");

  // The recipe, as an operator gets it: through the CLI.
  auto cli = pg2ch_cli(db, file, {"ddl", "kafka-engine", "--table", "public.items"},
                       "ddl");
  ASSERT_EQ(cli.wait(60s), 0) << cli.describe();
  const std::string script = cli.stdout_text();
  ASSERT_NE(script.find("ENGINE = Kafka"), std::string::npos) << script;
  ASSERT_NE(script.find("TRUNCATE"), std::string::npos) << "the limit is stated in the SQL";
  std::vector<std::string> statements;
  for (std::size_t pos = 0; pos < script.size();) {
    const auto end = script.find(";\n\n", pos);
    const std::string s = script.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (s.find_first_not_of(" \n") != std::string::npos) statements.push_back(s);
    pos = end == std::string::npos ? script.size() : end + 3;
  }
  for (const auto& s : statements) target.execute(s);
  auto in_db = ch.client(db.name());

  PipelineRunner runner(cfg);
  ASSERT_TRUE(wait_until([&] { return slot_streaming(db); }, 60s));
  db.pg_exec(
      "INSERT INTO items VALUES "
      "(1, 9000000000, 12.50, E'quote \" backslash \\\\ tab \\t newline \\n unicode \u00e9 \u65e5 \U0001F600', true, "
      "'2024-05-01', '2024-05-01 10:00:00.123456', '2024-05-01 10:00:00.5+02', 1.5, '{1,NULL,3}'), "
      "(2, -1, -0.01, '', false, '1999-12-31', '2000-01-01 00:00:00', '1970-01-01 00:00:00+00', -2.25, '{}'), "
      "(3, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
  db.pg_exec("INSERT INTO items SELECT g, g * 10, g / 4.0, 'row ' || g, g % 2 = 0, DATE '2020-01-01' + g, "
             "TIMESTAMP '2021-06-01 12:00:00' + g * INTERVAL '1 minute', now(), g * 0.5, ARRAY[g, g + 1] "
             "FROM generate_series(4, 60) g");
  db.pg_exec("UPDATE items SET note = note || ' \"changed\"', price = price + 1 WHERE id % 3 = 0");
  db.pg_exec("UPDATE items SET tags = NULL, ratio = NULL WHERE id = 5");
  db.pg_exec("DELETE FROM items WHERE id % 7 = 0");
  db.pg_exec("BEGIN; DELETE FROM items WHERE id = 2; INSERT INTO items (id, big, note) VALUES (2, 2, 'reborn'); COMMIT");
  db.pg_exec("UPDATE items SET id = 1000 WHERE id = 4");  // the key moves: d for 4, c for 1000

  Rows pg, got;
  const bool equal = wait_until(
      [&] {
        pg = db.pg_rows(kPgSql);
        got = split_tsv(in_db.query(kChSql));
        return pg == got;
      },
      90s, 250ms);
  EXPECT_TRUE(equal) << "PostgreSQL " << pg.size() << " rows, ClickHouse " << got.size();
  for (std::size_t i = 0; !equal && i < std::min(pg.size(), got.size()); ++i) {
    for (std::size_t c = 0; c < std::min(pg[i].size(), got[i].size()); ++c)
      EXPECT_EQ(pg[i][c], got[i][c]) << "row " << i << " column " << c;
  }
  // Every row came through Kafka and the view (the initial snapshot was empty): none has the
  // snapshot's version 0.
  EXPECT_EQ(split_tsv(in_db.query("SELECT count() FROM items WHERE _version = 0 FORMAT TabSeparated")), Rows{{"0"}});
  // Deleted keys are rows with _deleted = 1 (the target keeps them until merges, like pg2ch's own).
  EXPECT_EQ(split_tsv(in_db.query("SELECT count() FROM items FINAL WHERE _deleted = 1 AND id = 7 FORMAT TabSeparated")),
            Rows{{"1"}});
  runner.stop();

  // Stop consuming before the broker goes away.
  in_db.execute("DROP TABLE IF EXISTS items__kafka_mv");
  in_db.execute("DROP TABLE IF EXISTS items__kafka");
}

}  // namespace
}  // namespace pg2ch::test
