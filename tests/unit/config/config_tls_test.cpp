// TLS settings: PostgreSQL's reach libpq's conninfo; ClickHouse's and Kafka's files need TLS on.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <map>

#include "config_test_util.h"

namespace pg2ch::config {
namespace {

std::map<std::string, std::string> libpq_parse(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    ADD_FAILURE() << "libpq rejected conninfo: " << (error ? error : "?");
    PQfreemem(error);
    return {};
  }
  std::map<std::string, std::string> values;
  for (auto* o = options; o->keyword; ++o)
    if (o->val) values[o->keyword] = o->val;
  PQconninfoFree(options);
  return values;
}

TEST(ConfigTls, PostgresCertificatesReachLibpq) {
  auto options = testing::isolated_options();
  options.config_path = std::nullopt;
  options.environment = {{"PG2CH_POSTGRES_SSLMODE", "verify-full"},
                         {"PG2CH_POSTGRES_SSLROOTCERT", "/etc/pg2ch/ca dir/root.crt"},
                         {"PG2CH_POSTGRES_SSLCERT", "/etc/pg2ch/client.crt"},
                         {"PG2CH_POSTGRES_SSLKEY", "/etc/pg2ch/client.key"}};
  auto c = load(options);
  auto parsed = libpq_parse(c.postgres.conninfo(true));
  EXPECT_EQ(parsed["sslmode"], "verify-full");
  EXPECT_EQ(parsed["sslrootcert"], "/etc/pg2ch/ca dir/root.crt");
  EXPECT_EQ(parsed["sslcert"], "/etc/pg2ch/client.crt");
  EXPECT_EQ(parsed["sslkey"], "/etc/pg2ch/client.key");
}

TEST(ConfigTls, UnsetCertificatesAreLeftToLibpq) {
  PostgresConfig pg;
  auto parsed = libpq_parse(pg.conninfo());
  EXPECT_FALSE(parsed.contains("sslrootcert"));
  EXPECT_FALSE(parsed.contains("sslcert"));
  EXPECT_FALSE(parsed.contains("sslkey"));
}

TEST(ConfigTls, ClickHouseFilesNeedSecure) {
  auto options = testing::isolated_options();
  options.cli_overrides["clickhouse.ca_file"] = "/etc/pg2ch/ca.crt";
  auto e = testing::config_error([&] { load(options); });
  EXPECT_NE(std::string(e.what()).find("clickhouse.secure = false"), std::string::npos) << e.what();
  options.cli_overrides["clickhouse.secure"] = "true";
  options.cli_overrides["clickhouse.cert_file"] = "/etc/pg2ch/client.crt";
  options.cli_overrides["clickhouse.key_file"] = "/etc/pg2ch/client.key";
  auto c = load(options);
  EXPECT_EQ(c.clickhouse.ca_file, "/etc/pg2ch/ca.crt");
  EXPECT_EQ(c.clickhouse.cert_file, "/etc/pg2ch/client.crt");
  EXPECT_EQ(c.clickhouse.key_file, "/etc/pg2ch/client.key");
}

TEST(ConfigTls, KafkaSslFilesNeedATlsProtocol) {
  auto options = testing::isolated_options();
  options.cli_overrides["kafka.ssl_ca_location"] = "/etc/pg2ch/ca.crt";
  options.cli_overrides["kafka.security_protocol"] = "sasl_plaintext";
  auto e = testing::config_error([&] { load(options); });
  EXPECT_NE(std::string(e.what()).find("kafka.ssl_"), std::string::npos) << e.what();
  options.cli_overrides["kafka.security_protocol"] = "sasl_ssl";
  EXPECT_EQ(load(options).kafka.ssl_ca_location, "/etc/pg2ch/ca.crt");
}

}  // namespace
}  // namespace pg2ch::config
