#pragma once
// Settings that are each valid alone but not together. Checked once every layer is applied, so a
// value from one source and another from a higher one are judged as they will be used.
#include "config/config.h"

namespace pg2ch::config::detail {

// Throws Error(Config) naming both settings: clickhouse.distributed without clickhouse.cluster,
// clickhouse TLS files without clickhouse.secure, kafka.ssl_* without a TLS security_protocol.
void require_consistent(const Config& config);

}  // namespace pg2ch::config::detail
