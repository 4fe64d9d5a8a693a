#pragma once
// How many COPY workers the initial snapshot (and a resync's copy) runs when
// `logical.snapshot_workers = 0` (the default).
//
// Each worker is a pipeline of three busy processes — the PostgreSQL backend running COPY TO
// STDOUT, pg2ch parsing it (cheap: ~0.1 s of CPU per million rows) and the ClickHouse server
// parsing and sorting the INSERT — so with one worker the stages leave each other idle, and more
// workers help while there are cores to run them. Measured with bench/run.sh on 2 cores with both
// servers local (issue 16): on a quiet machine two workers copied 1.29x and 1.42x as fast as the
// streaming pipe where one worker did 1.15x and 0.98x; on a machine busy with other work two
// workers were slower than one (0.85x against 1.0x), because every extra worker then only
// competes for the same cores.
//
// So where PostgreSQL or ClickHouse runs on this machine the count is the cores not already busy
// (cores minus the one-minute load average, rounded, at least one). Remote servers bring their own
// cores, which cannot be seen from here: one worker per local core, capped at kRemoteCap.
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
  std::string reason;  // for the log line, e.g. "2 cores, load 0.4, PostgreSQL and ClickHouse on this machine"
};

inline constexpr int kRemoteCap = 4;

// `cores`: what std::thread::hardware_concurrency() says (0 = unknown, taken as 1); `load`: the
// one-minute load average.
WorkerChoice choose_snapshot_workers(int configured, unsigned cores, double load, bool postgres_local,
                                     bool clickhouse_local);
WorkerChoice choose_snapshot_workers(const config::Config& cfg);

// Whether `host` (a host name, an address or a Unix socket directory) is this machine.
bool is_local_host(std::string_view host);

}  // namespace pg2ch::capture::logical
