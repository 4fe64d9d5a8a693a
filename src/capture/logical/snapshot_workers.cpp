#include "capture/logical/snapshot_workers.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "config/config.h"

namespace pg2ch::capture::logical {

bool is_local_host(std::string_view host) {
  if (host.empty() || host.front() == '/') return true;  // libpq: empty or a path is a Unix socket
  if (host == "localhost" || host == "::1" || host.starts_with("127.")) return true;
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) == 0 && host == std::string_view(name.data())) return true;
  return false;
}

WorkerChoice choose_snapshot_workers(int configured, unsigned cores, double load, bool postgres_local,
                                     bool clickhouse_local) {
  if (configured > 0) return {configured, "logical.snapshot_workers"};
  const int n = static_cast<int>(std::max(1u, cores));
  int workers = 0;
  std::string where;
  if (postgres_local || clickhouse_local) {
    const double idle = static_cast<double>(n) - std::max(0.0, load);
    workers = std::clamp(static_cast<int>(std::lround(idle)), 1, n);
    where = postgres_local && clickhouse_local ? "PostgreSQL and ClickHouse on this machine"
            : postgres_local                  ? "PostgreSQL on this machine"
                                              : "ClickHouse on this machine";
    where += ": one per core not busy";
  } else {
    workers = std::min(n, kRemoteCap);
    where = fmt::format("both servers elsewhere: one per core, at most {}", kRemoteCap);
  }
  return {workers, fmt::format("{} core(s), load {:.1f}, {}; set logical.snapshot_workers to choose", n, load, where)};
}

WorkerChoice choose_snapshot_workers(const config::Config& cfg) {
  // Only a sink that writes to ClickHouse makes the copy load ClickHouse.
  const bool to_clickhouse = cfg.sink != "kafka";
  double load = 0;
  if (::getloadavg(&load, 1) != 1) load = 0;
  return choose_snapshot_workers(cfg.logical.snapshot_workers, std::thread::hardware_concurrency(), load,
                                 is_local_host(cfg.postgres.host),
                                 to_clickhouse && is_local_host(cfg.clickhouse.host));
}

}  // namespace pg2ch::capture::logical
