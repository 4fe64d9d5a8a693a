#pragma once
// Configurations pointing at the test servers, for code under test and for the pg2ch binary.
#include <filesystem>
#include <string>
#include <vector>

#include "clickhouse/http_client.h"
#include "config/config.h"

namespace pg2ch::test {

class TestDatabase;

// Superuser connection settings for `database` on the test PostgreSQL.
config::PostgresConfig postgres_config(const std::string& database);
// Default-user settings for `database` on the test ClickHouse.
config::ClickHouseConfig clickhouse_config(const std::string& database);
clickhouse::Endpoint clickhouse_endpoint(const std::string& database);

// A complete pipeline config for `db`: both servers use db.name(), slot and publication are named
// after it, state lives in db.dir(), batches flush after 200 ms so tests do not wait a second.
config::Config make_test_config(const TestDatabase& db, std::vector<std::string> table_patterns = {"public.*"});

// Writes `config` as a TOML file the pg2ch binary accepts with --config; returns `path`.
std::filesystem::path write_config_file(const config::Config& config, const std::filesystem::path& path);

}  // namespace pg2ch::test
