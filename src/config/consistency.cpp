#include "config/consistency.h"

#include "common/error.h"

namespace pg2ch::config::detail {

void require_consistent(const Config& config) {
  if (config.clickhouse.distributed && config.clickhouse.cluster.empty()) {
    throw Error(ErrorKind::Config,
                "clickhouse.distributed = true needs clickhouse.cluster: a Distributed table spreads rows over the "
                "shards of a cluster, and none is set",
                "set clickhouse.cluster to the servers' cluster name, or clickhouse.distributed = false for one "
                "server");
  }
  const auto& ch = config.clickhouse;
  if (!ch.secure && (!ch.ca_file.empty() || !ch.cert_file.empty() || !ch.key_file.empty())) {
    throw Error(ErrorKind::Config,
                "clickhouse.ca_file, cert_file and key_file are for HTTPS, but clickhouse.secure = false",
                "set clickhouse.secure = true and clickhouse.port to the server's https_port (often 8443)");
  }
  const auto& k = config.kafka;
  const bool kafka_tls = k.security_protocol == "ssl" || k.security_protocol == "sasl_ssl";
  if (!kafka_tls && (!k.ssl_ca_location.empty() || !k.ssl_certificate_location.empty() ||
                     !k.ssl_key_location.empty() || !k.ssl_key_password.empty())) {
    throw Error(ErrorKind::Config,
                "kafka.ssl_* settings are set, but kafka.security_protocol = \"" + k.security_protocol +
                    "\" does not use TLS",
                "set kafka.security_protocol = \"ssl\" or \"sasl_ssl\"");
  }
}

}  // namespace pg2ch::config::detail
