// Commit-to-visible latency of a running pg2ch pipeline (bench/run.sh, measurement d).
//
// The writer commits `--rows-per-tx` rows into the source table every `--interval-ms` and notes
// when each COMMIT returned and the transaction's last id. A poller asks ClickHouse for
// `SELECT max(id)` every `--poll-ms` and notes when each transaction's last id first showed up
// (ids only grow, so max(id) >= last id means the whole transaction is visible: pg2ch writes
// a transaction's rows in order, each batch one INSERT). The visibility time is taken when the
// poll's answer arrived, so the figures include up to one poll round trip.
//
// The writer's session uses synchronous_commit = on by default (see main()).
//
// Prints one JSON object on stdout: {"transactions":..,"p50_ms":..,"p99_ms":..,"max_ms":..,...}.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "clickhouse/http_client.h"
#include "probe_stats.h"
#include "pg/connection.h"

namespace {

using pg2ch::bench::ms_between;
using pg2ch::bench::percentile;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string pg_conninfo;
  std::string table = "public.lat";
  pg2ch::clickhouse::Endpoint ch;
  std::string ch_table = "lat";
  int rows_per_tx = 100;
  int interval_ms = 10;
  double duration_s = 20;
  int poll_ms = 2;
  double drain_timeout_s = 30;
  std::string synchronous_commit = "on";
};

struct Sample {
  Clock::time_point at;
  std::int64_t max_id;
};

std::int64_t parse_max(const std::string& body) {
  try {
    return body.empty() ? 0 : std::stoll(body);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"pg2ch latency probe: commit in PostgreSQL -> visible in ClickHouse"};
  app.add_option("--pg", o.pg_conninfo, "libpq connection string of the source")->required();
  app.add_option("--table", o.table, "source table (id bigint primary key, payload text)");
  app.add_option("--ch-host", o.ch.host, "ClickHouse host");
  app.add_option("--ch-port", o.ch.port, "ClickHouse HTTP port");
  app.add_option("--ch-user", o.ch.user, "ClickHouse user");
  app.add_option("--ch-database", o.ch.database, "ClickHouse database");
  app.add_option("--ch-table", o.ch_table, "ClickHouse table pg2ch writes");
  app.add_option("--rows-per-tx", o.rows_per_tx, "rows per transaction");
  app.add_option("--interval-ms", o.interval_ms, "one transaction every this many ms");
  app.add_option("--duration", o.duration_s, "seconds to write");
  app.add_option("--poll-ms", o.poll_ms, "ClickHouse poll interval");
  app.add_option("--drain-timeout", o.drain_timeout_s, "seconds to wait for the last transaction");
  app.add_option("--synchronous-commit", o.synchronous_commit,
                 "synchronous_commit for the writer's session (default on: see below)");
  CLI11_PARSE(app, argc, argv);

  try {
    auto pg = pg2ch::pg::Connection::connect(o.pg_conninfo, "source PostgreSQL");
    // A walsender only decodes WAL that is flushed. With synchronous_commit = off (the bench
    // server's default, as on many test setups) a commit waits for the WAL writer, i.e. up to
    // wal_writer_delay (200 ms) before any replication client can see it; that is the server's
    // latency, not pg2ch's, so the writer commits synchronously unless told otherwise.
    pg.exec("SET synchronous_commit = " + pg.quote_literal(o.synchronous_commit));
    const std::int64_t first_id = pg.query(fmt::format("SELECT coalesce(max(id), 0) + 1 FROM {}", o.table)).int64(0, 0);
    const std::string insert =
        fmt::format("INSERT INTO {} (id, payload) SELECT g, 'payload-' || g FROM generate_series($1::bigint, $2::bigint) g",
                    o.table);
    const std::string select = fmt::format("SELECT max(id) FROM {}.{}", pg2ch::clickhouse::quote_identifier(o.ch.database),
                                           pg2ch::clickhouse::quote_identifier(o.ch_table));

    const auto transactions = static_cast<std::size_t>(o.duration_s * 1000 / o.interval_ms);
    std::vector<Clock::time_point> committed(transactions);
    std::vector<std::int64_t> last_id(transactions);
    std::atomic<std::int64_t> final_id{-1};
    std::atomic<bool> writer_failed{false};

    std::vector<Sample> samples;
    samples.reserve(static_cast<std::size_t>((o.duration_s + o.drain_timeout_s) * 1000 / std::max(1, o.poll_ms)) + 16);
    std::uint64_t poll_errors = 0;
    std::thread poller([&] {
      pg2ch::clickhouse::HttpClient ch(o.ch);
      const auto started = Clock::now();
      for (;;) {
        const auto next = Clock::now() + std::chrono::milliseconds(o.poll_ms);
        try {
          const std::int64_t m = parse_max(ch.query(select));
          samples.push_back({Clock::now(), m});
          const std::int64_t want = final_id.load();
          if (want >= 0 && m >= want) return;
        } catch (const std::exception&) {
          ++poll_errors;  // table not there yet, or a hiccup: keep polling
        }
        if (writer_failed.load()) return;
        if (ms_between(started, Clock::now()) > (o.duration_s + o.drain_timeout_s) * 1000) return;
        std::this_thread::sleep_until(next);
      }
    });

    const auto start = Clock::now();
    std::size_t written = 0;
    try {
      for (std::size_t i = 0; i < transactions; ++i) {
        std::this_thread::sleep_until(start + std::chrono::milliseconds(o.interval_ms) * i);
        const std::int64_t lo = first_id + static_cast<std::int64_t>(i) * o.rows_per_tx;
        const std::int64_t hi = lo + o.rows_per_tx - 1;
        pg.query(insert, {std::to_string(lo), std::to_string(hi)});  // autocommit: one transaction
        committed[i] = Clock::now();
        last_id[i] = hi;
        written = i + 1;
      }
    } catch (...) {
      writer_failed = true;
      poller.join();
      throw;
    }
    const double write_s = ms_between(start, Clock::now()) / 1000;
    final_id = written ? last_id[written - 1] : 0;
    poller.join();

    // Each transaction's visibility: the first sample at or after its commit whose max(id)
    // covers its last id (ids and commits are ordered, so one pass suffices).
    std::vector<double> latencies;
    std::size_t s = 0, missing = 0;
    for (std::size_t i = 0; i < written; ++i) {
      while (s < samples.size() && (samples[s].at < committed[i] || samples[s].max_id < last_id[i])) ++s;
      if (s == samples.size()) {
        missing = written - i;
        break;
      }
      latencies.push_back(ms_between(committed[i], samples[s].at));
    }
    std::vector<double> sorted = latencies;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double l : sorted) sum += l;
    std::cout << fmt::format(
        "{{\"transactions\":{},\"rows\":{},\"write_seconds\":{:.2f},\"rows_per_second\":{:.0f},\"visible\":{},"
        "\"missing\":{},\"polls\":{},\"poll_errors\":{},\"mean_ms\":{:.1f},\"p50_ms\":{:.1f},\"p90_ms\":{:.1f},"
        "\"p99_ms\":{:.1f},\"max_ms\":{:.1f}}}\n",
        written, written * static_cast<std::size_t>(o.rows_per_tx), write_s,
        write_s > 0 ? static_cast<double>(written) * o.rows_per_tx / write_s : 0.0, sorted.size(), missing,
        samples.size(), poll_errors, sorted.empty() ? 0.0 : sum / static_cast<double>(sorted.size()),
        percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99), sorted.empty() ? 0.0 : sorted.back());
    return missing == 0 && written == transactions ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "latency_probe: " << e.what() << "\n";
    return 1;
  }
}
