#include "capture/logical/snapshot_workers.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
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

WorkerChoice choose_snapshot_workers(int configured, unsigned cores, bool postgres_local, bool clickhouse_local) {
  if (configured > 0) return {configured, "logical.snapshot_workers"};
  const int n = static_cast<int>(std::max(1u, cores));
  const int local_servers = (postgres_local ? 1 : 0) + (clickhouse_local ? 1 : 0);
  int workers = std::max(1, n / (1 + local_servers));
  if (local_servers == 0) workers = std::min(workers, kRemoteCap);
  std::string where;
  if (postgres_local && clickhouse_local) {
    where = "PostgreSQL and ClickHouse on this machine";
  } else if (postgres_local) {
    where = "PostgreSQL on this machine";
  } else if (clickhouse_local) {
    where = "ClickHouse on this machine";
  } else {
    where = fmt::format("both servers elsewhere, at most {}", kRemoteCap);
  }
  return {workers, fmt::format("{} core(s), {}; set logical.snapshot_workers to choose", n, where)};
}

WorkerChoice choose_snapshot_workers(const config::Config& cfg) {
  // Only a sink that writes to ClickHouse makes the copy load ClickHouse.
  const bool to_clickhouse = cfg.sink != "kafka";
  return choose_snapshot_workers(cfg.logical.snapshot_workers, std::thread::hardware_concurrency(),
                                 is_local_host(cfg.postgres.host),
                                 to_clickhouse && is_local_host(cfg.clickhouse.host));
}

}  // namespace pg2ch::capture::logical
