#include "support/clickhouse_cluster.h"

#include <iostream>
#include <stdexcept>

namespace pg2ch::test {

const char* shape_name(ClickHouseCluster::Shape shape) {
  return shape == ClickHouseCluster::Shape::TwoShards ? "2x1" : "1x2";
}

ClickHouseCluster::ClickHouseCluster(Shape shape, std::filesystem::path dir)
    : shape_(shape), dir_(std::move(dir)), script_("ch-cluster-local.sh", dir_, {shape_name(shape)}) {
  std::filesystem::create_directories(dir_);
  // Armed before starting, so a crash half-way through start-up still stops what came up.
  guardian_ = ExitGuardian({script_.stop_command()}, dir_ / "exit-guardian.log");
  const auto vars = script_.start();
  name_ = vars.at("CH_CLUSTER_NAME");
  http_ports_[0] = std::stoi(vars.at("CH_CLUSTER_HTTP_PORT_1"));
  http_ports_[1] = std::stoi(vars.at("CH_CLUSTER_HTTP_PORT_2"));
  std::cerr << "[ cluster  ] " << name_ << " (" << shape_name(shape) << "): ClickHouse 127.0.0.1:" << http_ports_[0]
            << " and :" << http_ports_[1] << " (dir " << dir_.string() << ")\n";
}

ClickHouseCluster::~ClickHouseCluster() {
  if (auto failure = script_.stop(); !failure.empty()) std::cerr << "stopping the test cluster failed:\n" << failure;
}

clickhouse::Endpoint ClickHouseCluster::endpoint(std::size_t host, const std::string& database) const {
  clickhouse::Endpoint e;
  e.host = "127.0.0.1";
  e.port = http_ports_[host];
  e.database = database;
  e.timeout_s = 60;
  return e;
}

config::ClickHouseConfig ClickHouseCluster::clickhouse_config(const std::string& database, bool distributed) const {
  config::ClickHouseConfig ch;
  ch.host = "127.0.0.1";
  ch.port = http_ports_[0];
  ch.database = database;
  ch.timeout_s = 60;
  ch.cluster = name_;
  ch.distributed = distributed;
  return ch;
}

void ClickHouseCluster::drop_database(const std::string& database) const {
  clickhouse::HttpClient(endpoint(0, "default"))
      .query("DROP DATABASE IF EXISTS " + clickhouse::quote_identifier(database) + " ON CLUSTER " +
                 clickhouse::quote_identifier(name_),
             {{"wait_end_of_query", "1"}});
}

}  // namespace pg2ch::test
