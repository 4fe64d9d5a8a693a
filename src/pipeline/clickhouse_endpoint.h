#pragma once
// The ClickHouse endpoint a pipeline's config describes (compression "auto" resolved per host),
// and where on it the targets live (one server or a cluster).
#include "clickhouse/cluster_layout.h"
#include "clickhouse/http_client.h"
#include "config/config.h"

namespace pg2ch::pipeline {

clickhouse::Endpoint clickhouse_endpoint(const config::Config& cfg);
clickhouse::TargetLayout clickhouse_layout(const config::Config& cfg);

}  // namespace pg2ch::pipeline
