#include "pipeline/clickhouse_endpoint.h"

namespace pg2ch::pipeline {

clickhouse::Endpoint clickhouse_endpoint(const config::Config& cfg) {
  clickhouse::Endpoint e;
  e.host = cfg.clickhouse.host;
  e.port = cfg.clickhouse.port;
  e.secure = cfg.clickhouse.secure;
  e.ca_file = cfg.clickhouse.ca_file;
  e.cert_file = cfg.clickhouse.cert_file;
  e.key_file = cfg.clickhouse.key_file;
  e.user = cfg.clickhouse.user;
  e.password = cfg.clickhouse.password;
  e.database = cfg.clickhouse.database;
  e.timeout_s = cfg.clickhouse.timeout_s;
  // zstd is checked against the server later (HttpClient::capabilities); pass no caps here.
  e.compression = clickhouse::choose_compression(cfg.clickhouse.compression, cfg.clickhouse.host, nullptr);
  return e;
}

clickhouse::TargetLayout clickhouse_layout(const config::Config& cfg) {
  return {.cluster = cfg.clickhouse.cluster,
          .distributed = cfg.clickhouse.distributed,
          .purge_deleted_after_s = cfg.clickhouse.purge_deleted_after_s,
          .async_insert = cfg.clickhouse.async_insert};
}

}  // namespace pg2ch::pipeline
