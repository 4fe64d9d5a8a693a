#pragma once
// How many COPY workers the initial snapshot (and a resync's copy) runs when
// `logical.snapshot_workers = 0` (the default).
//
// Why not one per core: each worker is a pipeline of three busy processes — the PostgreSQL
// backend running COPY TO STDOUT, pg2ch parsing it (cheap: ~0.15 s of CPU per million rows),
// and the ClickHouse server parsing and sorting the INSERT. Where PostgreSQL and ClickHouse run
// on this machine, a second worker takes cores they need: measured with bench/run.sh on 2 cores
// with both servers local, two workers copied at 0.85-0.95x the speed of one (issue 16). So the
// cores are divided by the number of such pipelines' busy parts that live here: one share for
// pg2ch plus one for each server on this machine. Remote servers bring their own cores; the
// count is then capped (kRemoteCap) because their capacity is unknown from here.
//
// An explicit `logical.snapshot_workers` always wins.
#include <string>
#include <string_view>

namespace pg2ch::config {
struct Config;
}

namespace pg2ch::capture::logical {

struct WorkerChoice {
  int workers = 1;
  std::string reason;  // for the log line, e.g. "2 cores, PostgreSQL and ClickHouse on this machine"
};

inline constexpr int kRemoteCap = 4;

// `cores`: what std::thread::hardware_concurrency() says (0 = unknown, taken as 1).
WorkerChoice choose_snapshot_workers(int configured, unsigned cores, bool postgres_local, bool clickhouse_local);
WorkerChoice choose_snapshot_workers(const config::Config& cfg);

// Whether `host` (a host name, an address or a Unix socket directory) is this machine.
bool is_local_host(std::string_view host);

}  // namespace pg2ch::capture::logical
