#include "fault/fault_route.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "fault/mixed_workload.h"
#include "support/kafka_broker.h"
#include "support/kafka_route.h"
#include "support/pg2ch_cli.h"
#include "support/servers.h"
#include "support/table_compare.h"
#include "support/test_config.h"

namespace pg2ch::test::fault {
namespace {

using namespace std::chrono_literals;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

unsigned seed_from_env() {
  const char* v = std::getenv("PG2CH_FAULT_SEED");
  if (v && *v) return static_cast<unsigned>(std::strtoul(v, nullptr, 10));
  return static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
}

// A pg2ch `run` the test kills and starts again; each start logs to <tag><n>.stderr.log.
class Restartable {
 public:
  Restartable(const TestDatabase& db, std::filesystem::path config, std::string tag)
      : db_(db), config_(std::move(config)), tag_(std::move(tag)) {}

  void start() { proc_.emplace(pg2ch_cli(db_, config_, {"run"}, fmt::format("{}{}", tag_, starts_++))); }
  void kill_and_start() {
    proc_->kill();
    ++kills_;
    start();
  }
  ChildProcess& proc() { return *proc_; }
  bool running() { return proc_->running(); }
  int kills() const { return kills_; }
  const std::string& tag() const { return tag_; }

 private:
  const TestDatabase& db_;
  std::filesystem::path config_;
  std::string tag_;
  std::optional<ChildProcess> proc_;
  int starts_ = 0;
  int kills_ = 0;
};

struct Scenario {
  const Route& route;
  unsigned seed;
  int kills_per_process;
  int seed_rows;
  TestDatabase db = make_test_database();
  std::unique_ptr<KafkaBroker> broker;
  config::Config writer_cfg;  // the config whose sink writes ClickHouse (the consumer's, on the Kafka route)
  std::vector<std::unique_ptr<Restartable>> processes;
  std::vector<std::string> outages;
  std::mt19937 rng;

  Scenario(const Route& r, unsigned s, int kills, int rows)
      : route(r), seed(s), kills_per_process(kills), seed_rows(rows), rng(s) {}

  void configure() {
    auto quick_retries = [&](config::Config& c) {
      // Back quickly once a server returns: the outages are seconds long.
      c.service.retry_initial = 300ms;
      c.service.retry_max = 2000ms;
    };
    config::Config first = route.config(db);
    quick_retries(first);
    if (route.kafka) {
      broker = std::make_unique<KafkaBroker>();
      auto k = kafka_route(db, *broker, MixedWorkload::tables(), 3);
      k.producer.service = first.service;
      k.consumer.batch.max_delay = 200ms;
      quick_retries(k.consumer);
      writer_cfg = k.consumer;
      processes.push_back(std::make_unique<Restartable>(
          db, write_config_file(k.producer, db.dir() / "producer.toml"), "producer"));
      processes.push_back(std::make_unique<Restartable>(
          db, write_config_file(k.consumer, db.dir() / "consumer.toml"), "consumer"));
    } else {
      writer_cfg = first;
      processes.push_back(std::make_unique<Restartable>(db, write_config_file(first, db.dir() / "pg2ch.toml"),
                                                        route.name));
    }
    if (route.setup) {
      auto setup = pg2ch_cli(db, db.dir() / "pg2ch.toml", {"setup"}, "setup");
      ASSERT_EQ(setup.wait(120s), 0) << setup.describe();
    }
    // The test server commits asynchronously: an immediate shutdown can lose the last commits,
    // which is fine for the workload (the source's final state is what is compared) but not for
    // the tables and triggers the route needs (an outbox run once found no events table).
    db.pg_exec("CHECKPOINT");
  }

  ::testing::AssertionResult all_running() {
    for (auto& p : processes)
      if (!p->running()) return ::testing::AssertionFailure() << p->tag() << " exited: " << p->proc().describe();
    return ::testing::AssertionSuccess();
  }

  std::chrono::milliseconds random_pause() { return std::chrono::milliseconds(300 + rng() % 2200); }

  void kills(int n) {
    for (int i = 0; i < n; ++i) {
      for (auto& p : processes) {
        std::this_thread::sleep_for(random_pause());
        ASSERT_TRUE(p->running()) << p->tag() << " exited on its own: " << p->proc().describe();
        p->kill_and_start();
      }
    }
  }

  void restart_postgres(bool immediate) {
    stop_postgres(immediate);
    std::this_thread::sleep_for(1s);
    start_postgres();
    db.pg_forget();
  }

  // Rows of the three targets, -1 while one is missing.
  long copied_rows() {
    long sum = 0;
    for (const auto* t : {"fault_a", "fault_b", "fault_c"}) {
      try {
        sum += std::stol(db.ch_rows(std::string("SELECT count() FROM ") + t)[0][0]);
      } catch (const std::exception&) {
        return -1;
      }
    }
    return sum;
  }

  // As soon as the first start's copy has written some rows but not all (the Kafka route's copy
  // goes to Kafka: 0.3 s after the start there).
  void postgres_down_during_first_copy() {
    for (auto& p : processes) p->start();
    long copied = -1;
    if (route.kafka) {
      std::this_thread::sleep_for(300ms);
    } else {
      wait_until([&] { return (copied = copied_rows()) > 0; }, 30s, 5ms);
    }
    restart_postgres(true);
    if (route.kafka) {
      // How the producer's copy went on: resumed per range, or started over (then with a TRUNCATE
      // first, capture/logical/logical_pipeline.cpp empty_sink_consumers).
      const auto& producer = processes[0]->proc();
      wait_until([&] { return producer.stderr_text().find("initial snapshot done") != std::string::npos; }, 120s);
      const std::string log = producer.stderr_text();
      std::cout << "[ fault    ] the producer's copy "
                << (log.find("the copy starts over") != std::string::npos ? "started over, a TRUNCATE sent first"
                    : log.find("initial snapshot resumed") != std::string::npos ? "resumed per range"
                                                                                  : "finished before the shutdown")
                << "\n";
    }
    const bool mid = route.kafka || (copied > 0 && copied < 3L * seed_rows);
    outages.push_back(mid ? "PostgreSQL immediate shutdown mid-snapshot" : "PostgreSQL immediate shutdown after the snapshot");
    std::cout << "[ fault    ] " << outages.back() << ": "
              << (route.kafka ? std::string("the producer copies to Kafka")
                              : fmt::format("{} of {} seeded rows copied to ClickHouse then", copied, 3 * seed_rows))
              << "\n";
  }

  void outage(const std::string& what, const std::function<void()>& act) {
    std::this_thread::sleep_for(random_pause());
    ASSERT_TRUE(all_running()) << "before: " << what;
    std::cout << "[ fault    ] " << what << "\n" << std::flush;
    act();
    outages.push_back(what);
  }

  void outages_mid_stream() {
    outage("ClickHouse restarted", [&] {
      stop_clickhouse();
      start_clickhouse();
    });
    // The sink retries an insert 6 times over ~15.5 s (pipeline/retry.h): 20 s is beyond, so the
    // run fails and restarts in-process.
    outage("ClickHouse stopped for 20 s", [&] {
      stop_clickhouse();
      std::this_thread::sleep_for(20s);
      start_clickhouse();
    });
    outage("PostgreSQL restarted (fast shutdown)", [&] { restart_postgres(false); });
    outage("PostgreSQL restarted (immediate shutdown)", [&] { restart_postgres(true); });
    if (broker) {
      outage("Kafka broker down for 5 s", [&] {
        broker->down();
        std::this_thread::sleep_for(5s);
        broker->up();
      });
    }
    outage("ClickHouse users readonly for 3 s", [&] {
      set_clickhouse_readonly(true);
      std::this_thread::sleep_for(3s);
      set_clickhouse_readonly(false);
      // A permission error is an operator's to fix: pg2ch exits 4 (systemd's unit does not
      // restart it) without acknowledging the refused rows; the operator starts it again.
      for (auto& p : processes) {
        if (p->running()) continue;
        EXPECT_EQ(p->proc().exit_code(), 4) << p->proc().describe();
        EXPECT_NE(p->proc().stderr_text().find("readonly"), std::string::npos) << p->proc().describe();
        std::cout << "[ fault    ] " << p->tag() << " exited 4 (readonly); started again\n";
        p->start();
      }
    });
    if (!route.kafka || route.known_losses)
      outage("target fault_c dropped in ClickHouse", [&] { db.ch_exec("DROP TABLE fault_c"); });
  }

  long check_equal() {
    long rows = 0;
    for (const auto& t : {"fault_a", "fault_b", "fault_c"}) {
      const TableQuery q{fmt::format("SELECT id, n, md5(coalesce(body, '')) FROM {} ORDER BY id", t),
                         fmt::format("SELECT id, n, lower(hex(MD5(ifNull(body, '')))) FROM {} FINAL WHERE _deleted = 0 "
                                     "ORDER BY id",
                                     t)};
      EXPECT_TRUE(wait_equal(db, q, 300s)) << t << " (seed " << seed << ")";
      rows += std::stol(db.pg_rows(fmt::format("SELECT count(*) FROM {}", t))[0][0]);
    }
    return rows;
  }

  bool verify_equal() {
    auto cfg = writer_cfg;
    cfg.clickhouse.port = ch_server().port;
    const auto file = write_config_file(cfg, db.dir() / "verify.toml");
    auto v = pg2ch_cli(db, file, {"verify", "--settle-ms", "0"}, "verify");
    const auto code = v.wait(300s);
    std::cout << v.stdout_text();
    EXPECT_EQ(code, 0) << v.describe() << v.stdout_text();
    int equal = 0;
    for (std::size_t at = 0; (at = v.stdout_text().find(": equal,", at)) != std::string::npos; ++at) ++equal;
    EXPECT_EQ(equal, 3) << v.stdout_text();
    return code == 0 && equal == 3;
  }
};

}  // namespace

void run_route(const Route& route) {
  if (!servers_restartable()) GTEST_SKIP() << "restarts the test servers: needs both started by this run, ClickHouse 18.16";
  const unsigned seed = seed_from_env();
  const int kills = env_int("PG2CH_FAULT_KILLS", 3);
  const int seed_rows = env_int("PG2CH_FAULT_SEED_ROWS", 20000);
  std::cout << "[ fault    ] route " << route.name << ": seed " << seed << " (PG2CH_FAULT_SEED=" << seed
            << " runs it again), " << kills << " kills per process\n";
  Scenario s(route, seed, kills, seed_rows);
  MixedWorkload::create_tables(s.db, seed_rows);
  s.configure();
  if (::testing::Test::HasFatalFailure()) return;
  s.postgres_down_during_first_copy();
  MixedWorkload workload(s.db, {.seed = seed, .deletes_and_key_changes = route.deletes_and_key_changes}, seed_rows);
  s.kills(kills / 2);
  if (::testing::Test::HasFatalFailure()) return;
  s.outages_mid_stream();
  if (::testing::Test::HasFatalFailure()) return;
  s.kills(kills - kills / 2);
  if (::testing::Test::HasFatalFailure()) return;
  workload.stop();
  ASSERT_TRUE(s.all_running());
  std::cout << "[ fault    ] workload: " << workload.transactions() << " transactions, "
            << workload.failed_statements() << " cut by the PostgreSQL restarts\n";
  ASSERT_GT(workload.transactions(), 50);

  const long rows = s.check_equal();
  for (auto& p : s.processes) EXPECT_EQ(p->proc().stop(SIGTERM), 0) << p->proc().describe();
  const bool verified = s.verify_equal();
  const bool passed = verified && !::testing::Test::HasFailure();
  int total_kills = 0;
  for (auto& p : s.processes) total_kills += p->kills();
  const std::string line = fmt::format(
      "route={} seed={} kills={} outages={} rows={} transactions={} result={}", route.name, seed, total_kills,
      s.outages.size(), rows, workload.transactions(), passed ? "equal" : "FAILED");
  std::cout << "[ fault    ] " << line << "\n";
  if (const char* report = std::getenv("PG2CH_FAULT_REPORT"); report && *report) std::ofstream(report, std::ios::app) << line << "\n";
}

}  // namespace pg2ch::test::fault
