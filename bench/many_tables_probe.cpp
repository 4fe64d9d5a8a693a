// Many tables, small transactions (bench/many_tables.sh, issue 18): the INSERT rate and parts a
// pipeline makes in ClickHouse, and commit -> visible per table class.
//
// Writers commit single-row UPDATEs at --tx-per-second in all, each into one of --tables tables
// `<schema>.t<k> (id int primary key, seq bigint, payload text)`: with --hot-tables K, a share
// --hot-share of the transactions goes to tables 0..K-1 and the rest uniformly to the others;
// without, uniformly to all. Each UPDATE sets `seq` to a global counter (started at the current
// time in microseconds, above any earlier run's) and the writer notes the
// table, the seq and when COMMIT returned. A poller asks ClickHouse every --poll-ms for
// `max(seq)` of every target at once (the merge() table function; seq only grows, so a max at
// or past a transaction's seq means that transaction is visible) and notes when each table's
// max first covered each seq. The visibility time is when the poll's answer arrived.
//
// ClickHouse's own counts frame the write window: the INSERTs made (the highest block number of
// each target, summed: every INSERT takes the next block number of its table) and the active
// parts left a fixed time after the writers started.
//
// Prints one JSON object on stdout.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "clickhouse/http_client.h"
#include "probe_stats.h"
#include "clickhouse/tab_separated.h"
#include "pg/connection.h"

namespace {

using pg2ch::bench::ms_between;
using pg2ch::bench::percentile;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string pg_conninfo;
  std::string schema = "bench";
  pg2ch::clickhouse::Endpoint ch;
  int tables = 500;
  double tx_per_second = 1500;
  int hot_tables = 0;
  double hot_share = 0.8;
  double duration_s = 60;
  int writers = 4;
  int poll_ms = 250;
  double drain_timeout_s = 180;
};

struct Committed {
  int table;
  std::int64_t seq;
  Clock::time_point at;
};

struct Sample {
  Clock::time_point at;
  std::vector<std::int64_t> max_seq;  // per table
};

std::int64_t scalar(pg2ch::clickhouse::HttpClient& ch, const std::string& sql) {
  const std::string body = ch.query(sql);
  return body.empty() || body == "\n" ? 0 : std::stoll(body);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"pg2ch many-tables probe: INSERTs, parts and commit -> visible over many tables"};
  app.add_option("--pg", o.pg_conninfo, "libpq connection string of the source")->required();
  app.add_option("--schema", o.schema, "source schema holding t0..t<N-1>");
  app.add_option("--ch-host", o.ch.host, "ClickHouse host");
  app.add_option("--ch-port", o.ch.port, "ClickHouse HTTP port");
  app.add_option("--ch-user", o.ch.user, "ClickHouse user");
  app.add_option("--ch-database", o.ch.database, "ClickHouse database pg2ch writes");
  app.add_option("--tables", o.tables, "tables t0..t<N-1>");
  app.add_option("--tx-per-second", o.tx_per_second, "single-row transactions a second, all writers together");
  app.add_option("--hot-tables", o.hot_tables, "tables 0..K-1 take --hot-share of the transactions (0: uniform)");
  app.add_option("--hot-share", o.hot_share, "share of the transactions into the hot tables");
  app.add_option("--duration", o.duration_s, "seconds to write; parts are counted at this time too");
  app.add_option("--writers", o.writers, "writer connections");
  app.add_option("--poll-ms", o.poll_ms, "ClickHouse poll interval");
  app.add_option("--drain-timeout", o.drain_timeout_s, "seconds to wait for the last transactions");
  CLI11_PARSE(app, argc, argv);

  try {
    pg2ch::clickhouse::HttpClient ch(o.ch);
    const std::string db = pg2ch::clickhouse::quote_string(o.ch.database);
    const std::string blocks_sql = "SELECT sum(m) FROM (SELECT table, max(max_block_number) AS m FROM system.parts "
                                   "WHERE database = " + db + " GROUP BY table)";
    const std::string parts_sql = "SELECT count() FROM system.parts WHERE database = " + db + " AND active";
    const std::string poll_sql = "SELECT _table, max(seq) FROM merge(" + db + ", '^t[0-9]+$') GROUP BY _table "
                                 "FORMAT TabSeparated";

    // Microseconds since the epoch: above every seq an earlier run left in the tables, which an
    // initial copy brings along (a restart from 1 would count those rows as this run's).
    std::atomic<std::int64_t> next_seq{std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count()};
    std::atomic<bool> writers_done{false}, failed{false};
    std::vector<std::vector<Committed>> committed(static_cast<std::size_t>(o.writers));
    const std::int64_t blocks_before = scalar(ch, blocks_sql);
    const auto start = Clock::now();

    std::vector<Sample> samples;
    std::vector<std::int64_t> want(static_cast<std::size_t>(o.tables), 0);  // the last seq per table, once written
    std::thread poller([&] {
      pg2ch::clickhouse::HttpClient c(o.ch);
      for (;;) {
        const auto next = Clock::now() + std::chrono::milliseconds(o.poll_ms);
        try {
          Sample s{Clock::now(), std::vector<std::int64_t>(static_cast<std::size_t>(o.tables), 0)};
          for (const auto& row : pg2ch::clickhouse::parse_tab_separated(c.query(poll_sql))) {
            if (row.size() < 2 || row[0].size() < 2) continue;
            const int k = std::stoi(row[0].substr(1));
            if (k >= 0 && k < o.tables) s.max_seq[static_cast<std::size_t>(k)] = std::stoll(row[1]);
          }
          s.at = Clock::now();
          samples.push_back(std::move(s));
        } catch (const std::exception& e) {
          std::cerr << "many_tables_probe: poll: " << e.what() << "\n";
        }
        if (failed) return;
        if (writers_done && !samples.empty()) {
          // Done once every table's max covers the last seq written into it.
          bool all = true;
          for (std::size_t k = 0; k < want.size() && all; ++k) all = samples.back().max_seq[k] >= want[k];
          if (all) return;
        }
        if (ms_between(start, Clock::now()) > (o.duration_s + o.drain_timeout_s) * 1000) return;
        std::this_thread::sleep_until(next);
      }
    });

    std::vector<std::thread> writers;
    for (int w = 0; w < o.writers; ++w) {
      writers.emplace_back([&, w] {
        try {
          auto pg = pg2ch::pg::Connection::connect(o.pg_conninfo, "source PostgreSQL");
          pg.exec("SET synchronous_commit = on");
          std::mt19937_64 rng(static_cast<std::uint64_t>(w) * 7919 + 1);
          std::uniform_real_distribution<double> unit(0, 1);
          const double interval_s = o.writers / o.tx_per_second;
          auto& mine = committed[static_cast<std::size_t>(w)];
          mine.reserve(static_cast<std::size_t>(o.duration_s / interval_s) + 16);
          for (std::size_t i = 0;; ++i) {
            const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(interval_s * static_cast<double>(i)));
            if (ms_between(start, due) >= o.duration_s * 1000) break;
            std::this_thread::sleep_until(due);
            int table;
            if (o.hot_tables > 0 && unit(rng) < o.hot_share) {
              table = static_cast<int>(rng() % static_cast<std::uint64_t>(o.hot_tables));
            } else if (o.hot_tables > 0) {
              table = o.hot_tables + static_cast<int>(rng() % static_cast<std::uint64_t>(o.tables - o.hot_tables));
            } else {
              table = static_cast<int>(rng() % static_cast<std::uint64_t>(o.tables));
            }
            const std::int64_t seq = next_seq++;
            pg.exec(fmt::format("UPDATE {}.t{} SET seq = {} WHERE id = {}", o.schema, table, seq, 1 + rng() % 200));
            mine.push_back({table, seq, Clock::now()});
          }
        } catch (const std::exception& e) {
          std::cerr << "many_tables_probe: writer: " << e.what() << "\n";
          failed = true;
        }
      });
    }
    for (auto& t : writers) t.join();
    const double write_s = ms_between(start, Clock::now()) / 1000;
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(o.duration_s)));
    const std::int64_t blocks_at_end = scalar(ch, blocks_sql);
    const std::int64_t parts_at_end = scalar(ch, parts_sql);
    for (const auto& w : committed) {
      for (const auto& c : w) want[static_cast<std::size_t>(c.table)] = std::max(want[static_cast<std::size_t>(c.table)], c.seq);
    }
    writers_done = true;
    poller.join();

    // Each transaction's visibility: the first sample at or after its commit that covers it.
    std::vector<double> hot, cold;
    std::size_t missing = 0, transactions = 0;
    for (const auto& w : committed) {
      std::size_t s = 0;
      for (const auto& c : w) {  // a writer's commits are in time order
        ++transactions;
        while (s < samples.size() && samples[s].at < c.at) ++s;
        std::size_t t = s;
        while (t < samples.size() && samples[t].max_seq[static_cast<std::size_t>(c.table)] < c.seq) ++t;
        if (t == samples.size()) {
          ++missing;
          continue;
        }
        (c.table < o.hot_tables ? hot : cold).push_back(ms_between(c.at, samples[t].at));
      }
    }
    std::sort(hot.begin(), hot.end());
    std::sort(cold.begin(), cold.end());
    const double inserts_per_s = static_cast<double>(blocks_at_end - blocks_before) / o.duration_s;
    std::cout << fmt::format(
        "{{\"tables\":{},\"hot_tables\":{},\"transactions\":{},\"write_seconds\":{:.1f},\"tx_per_second\":{:.0f},"
        "\"inserts\":{},\"inserts_per_second\":{:.1f},\"active_parts\":{},\"missing\":{},\"polls\":{},"
        "\"hot_p50_ms\":{:.0f},\"hot_p99_ms\":{:.0f},\"cold_p50_ms\":{:.0f},\"cold_p99_ms\":{:.0f},"
        "\"cold_max_ms\":{:.0f}}}\n",
        o.tables, o.hot_tables, transactions, write_s, static_cast<double>(transactions) / write_s,
        blocks_at_end - blocks_before, inserts_per_s, parts_at_end, missing, samples.size(), percentile(hot, 50),
        percentile(hot, 99), percentile(cold, 50), percentile(cold, 99), percentile(cold, 100));
    return missing == 0 && !failed ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "many_tables_probe: " << e.what() << "\n";
    return 1;
  }
}
