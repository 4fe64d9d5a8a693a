#pragma once
// The pg2ch binary's `/metrics` page ([service] metrics_listen) fetched and parsed by the
// Prometheus reference parser (support/prometheus_page.h).
#include <httplib.h>

#include <optional>
#include <string>
#include <vector>

#include "support/prometheus_page.h"

namespace pg2ch::test {

// The page's samples; none while nothing answers on `port` yet.
inline std::vector<PrometheusSample> metrics_page(int port) {
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/metrics");
  return r && r->status == 200 ? parse_prometheus(r->body) : std::vector<PrometheusSample>{};
}

// pg2ch_table_state{table, state}: 1 for the table's state, 0 for the others.
inline std::optional<double> table_state_metric(int port, const std::string& table, const std::string& state) {
  return sample_value(metrics_page(port), "pg2ch_table_state", {{"table", table}, {"state", state}});
}

}  // namespace pg2ch::test
