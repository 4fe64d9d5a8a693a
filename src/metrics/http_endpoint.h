#pragma once
// The HTTP listener of a running pipeline ([service] metrics_listen = "host:port"), on
// cpp-httplib (Debian's libcpp-httplib), in a thread of its own:
//   GET /metrics   Prometheus text exposition of PipelineMetrics
//   GET /healthz   200 while the working loop turns (it said alive within kStuckAfter), else 503
//   GET /readyz    200 while streaming (initial copy done, not retrying), else 503
// Nothing here reads or changes the pipeline beyond PipelineMetrics' thread-safe accessors.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "metrics/pipeline_metrics.h"

namespace httplib {
class Server;
}

namespace pg2ch::metrics {

class HttpEndpoint {
 public:
  // The loop says it is alive at least every second, a snapshot worker every 1 MB chunk and slot
  // creation every few seconds while it waits: a minute of silence is a stuck loop.
  static constexpr std::chrono::seconds kStuckAfter{60};

  // Binds at once (throws Error(Config) naming service.metrics_listen when it cannot) and serves
  // until destroyed. `listen` is host:port; port 0 picks a free one (see port()).
  HttpEndpoint(const std::string& listen, const PipelineMetrics& metrics);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace pg2ch::metrics
