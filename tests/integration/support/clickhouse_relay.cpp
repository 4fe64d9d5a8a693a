#include "support/clickhouse_relay.h"

#include <httplib.h>

#include <stdexcept>

namespace pg2ch::test {

namespace {

void fail_with_500(httplib::Response& res) {
  res.status = 500;
  res.set_header("X-ClickHouse-Exception-Code", "252");
  res.set_content("Code: 252. DB::Exception: Too many parts (300). Merges are processing significantly slower than "
                  "inserts. (TOO_MANY_PARTS) (version 24.8.4.13 (official build))\n",
                  "text/plain");
}

}  // namespace

ClickHouseRelay::ClickHouseRelay(int clickhouse_port)
    : clickhouse_port_(clickhouse_port), server_(std::make_unique<httplib::Server>()) {
  auto relay = [this](const httplib::Request& req, httplib::Response& res) {
    const bool insert_with_rows = !req.body.empty() && req.get_param_value("query").starts_with("INSERT");
    if (insert_with_rows && fail_with_ok_) {
      ++failed_with_ok_;
      res.status = 200;
      res.set_content("Code: 241. DB::Exception: Memory limit (total) exceeded: would use 9.31 GiB, maximum: "
                      "9.31 GiB. (MEMORY_LIMIT_EXCEEDED) (version 24.8.4.13 (official build))\n",
                      "text/plain");
      return;
    }
    if (insert_with_rows && fail_500_ && !fail_500_written_) {
      ++failed_500_;
      fail_with_500(res);
      return;
    }
    httplib::Client clickhouse("127.0.0.1", clickhouse_port_);
    clickhouse.set_read_timeout(300, 0);
    httplib::Headers headers;
    for (const char* name : {"Authorization", "X-ClickHouse-User", "X-ClickHouse-Key"})
      if (req.has_header(name)) headers.emplace(name, req.get_header_value(name));
    // cpp-httplib has already decoded a gzip body; a zstd one passes as it came.
    if (req.get_header_value("Content-Encoding") == "zstd") headers.emplace("Content-Encoding", "zstd");
    const std::string type = req.has_header("Content-Type") ? req.get_header_value("Content-Type") : "text/plain";
    auto answer = clickhouse.Post(req.target, headers, req.body, type);
    if (!answer) {
      res.status = 502;
      return;
    }
    if (insert_with_rows && fail_500_) {
      ++failed_500_;
      fail_with_500(res);
      return;
    }
    if (insert_with_rows && answer->status == 200 && armed_.exchange(false)) {
      ++lost_;
      res.status = 502;
      return;
    }
    res.status = answer->status;
    if (answer->has_header("X-ClickHouse-Exception-Code"))
      res.set_header("X-ClickHouse-Exception-Code", answer->get_header_value("X-ClickHouse-Exception-Code"));
    res.set_content(answer->body, "text/plain");
  };
  server_->Get("/", relay);
  server_->Post("/", relay);
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("ClickHouseRelay: cannot listen on 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

ClickHouseRelay::~ClickHouseRelay() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pg2ch::test
