#pragma once
// The ClickHouse endpoint a pipeline's config describes (compression "auto" resolved per host).
#include "clickhouse/http_client.h"
#include "config/config.h"

namespace pg2ch::pipeline {

clickhouse::Endpoint clickhouse_endpoint(const config::Config& cfg);

}  // namespace pg2ch::pipeline
