#include "metrics/http_endpoint.h"

#include <httplib.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include "common/error.h"

namespace pg2ch::metrics {

HttpEndpoint::HttpEndpoint(const std::string& listen, const PipelineMetrics& metrics)
    : server_(std::make_unique<httplib::Server>()) {
  // httplib's default sets SO_REUSEPORT, with which a second pg2ch on the same port binds too and
  // the kernel splits the scrapes between them. SO_REUSEADDR alone: restart fast, never share.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  const auto colon = listen.rfind(':');
  const std::string host = listen.substr(0, colon);
  const int port = std::stoi(listen.substr(colon + 1));

  server_->Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [&metrics](const httplib::Request&, httplib::Response& res) {
    const auto quiet = std::chrono::duration_cast<std::chrono::seconds>(metrics.since_alive());
    if (quiet < kStuckAfter) {
      res.set_content("ok\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("stuck: the working loop has not turned for " + std::to_string(quiet.count()) + " s\n",
                      "text/plain");
    }
  });
  server_->Get("/readyz", [&metrics](const httplib::Request&, httplib::Response& res) {
    const PipelineState s = metrics.state();
    if (s == PipelineState::Streaming) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content(std::string("not ready: ") + to_string(s) + "\n", "text/plain");
    }
  });

  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    port_ = port;
  }
  if (port_ <= 0) {
    throw Error(ErrorKind::Config, "service.metrics_listen = \"" + listen + "\": cannot listen there",
                "pick a free port on an address of this host (another pg2ch instance may use this one)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() does nothing before the accept loop runs: wait for it, so that a
  // destructor right after construction cannot leave the thread serving forever.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  spdlog::info("metrics and health on http://{}:{}/metrics, /healthz, /readyz", host, port_);
}

HttpEndpoint::~HttpEndpoint() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pg2ch::metrics
