// [kafka] security settings reach librdkafka's configuration under librdkafka's names, and a file
// librdkafka cannot use fails when the client is created, naming the setting's property.
#include "kafka/client_config.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "kafka/producer.h"

namespace pg2ch::kafka {
namespace {

std::string get(RdKafka::Conf& conf, const std::string& name) {
  std::string value;
  EXPECT_EQ(conf.get(name, value), RdKafka::Conf::CONF_OK) << name;
  return value;
}

config::KafkaConfig sasl_ssl() {
  config::KafkaConfig cfg;
  cfg.brokers = "127.0.0.1:1";
  cfg.security_protocol = "sasl_ssl";
  cfg.sasl_mechanism = "SCRAM-SHA-512";
  cfg.sasl_username = "pg2ch";
  cfg.sasl_password = "k-secret";
  cfg.ssl_ca_location = PG2CH_TEST_DATA_DIR "/missing-ca.crt";
  cfg.ssl_certificate_location = "/etc/pg2ch/client.crt";
  cfg.ssl_key_location = "/etc/pg2ch/client.key";
  cfg.ssl_key_password = "key-secret";
  return cfg;
}

TEST(KafkaClientConfig, SecuritySettingsReachLibrdkafka) {
  auto conf = make_client_conf(sasl_ssl(), "test");
  EXPECT_EQ(get(*conf, "security.protocol"), "sasl_ssl");
  EXPECT_EQ(get(*conf, "sasl.mechanisms"), "SCRAM-SHA-512");
  EXPECT_EQ(get(*conf, "sasl.username"), "pg2ch");
  EXPECT_EQ(get(*conf, "sasl.password"), "k-secret");
  EXPECT_EQ(get(*conf, "ssl.ca.location"), PG2CH_TEST_DATA_DIR "/missing-ca.crt");
  EXPECT_EQ(get(*conf, "ssl.certificate.location"), "/etc/pg2ch/client.crt");
  EXPECT_EQ(get(*conf, "ssl.key.location"), "/etc/pg2ch/client.key");
  EXPECT_EQ(get(*conf, "ssl.key.password"), "key-secret");
}

TEST(KafkaClientConfig, PlaintextSetsNoTlsFiles) {
  config::KafkaConfig cfg;
  cfg.brokers = "127.0.0.1:1";
  auto conf = make_client_conf(cfg, "test");
  EXPECT_EQ(get(*conf, "security.protocol"), "plaintext");
  std::string value;
  conf->get("ssl.ca.location", value);
  EXPECT_EQ(value, "");
}

class NoDeliveries : public DeliveryHandler {
 public:
  void on_delivery(const DeliveryReport&) noexcept override {}
};

TEST(KafkaClientConfig, AnUnreadableCaFileFailsWhenTheClientStarts) {
  NoDeliveries handler;
  try {
    Producer producer(sasl_ssl(), "test", handler);
    FAIL() << "a CA file that does not exist must stop the producer";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("ssl.ca.location"), std::string::npos) << e.what();
    EXPECT_EQ(e.one_line().find("k-secret"), std::string::npos) << e.one_line();
    EXPECT_EQ(e.one_line().find("key-secret"), std::string::npos) << e.one_line();
  }
}

}  // namespace
}  // namespace pg2ch::kafka
