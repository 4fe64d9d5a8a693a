// Kafka SASL/SSL settings against librdkafka's mock broker. The mock broker of librdkafka 2.0.2
// (Debian 12) has no SASL handshake and no TLS listener, and no real broker is packaged, so these
// tests prove what can be proved without one: the settings reach librdkafka (unit tests:
// kafka/kafka_client_config_test.cpp), librdkafka loads the test CA and then speaks SASL or TLS
// to the broker — which a plaintext broker cannot answer, so pg2ch stops with an error instead of
// falling back to plaintext — and a CA file librdkafka cannot load stops pg2ch at start, naming
// the setting. Secrets never show in the output.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "security/security_support.h"
#include "security/test_certificates.h"
#include "support/fixture.h"
#include "support/kafka_broker.h"

namespace pg2ch::test::security {
namespace {

constexpr const char* kSaslPassword = "Kafka-SASL-S3cret";
constexpr const char* kKeyPassword = "Kafka-Key-S3cret";

class SecurityKafka : public ::testing::Test {
 protected:
  void SetUp() override {
    db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
    db.pg_exec("INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 50) g");
    broker.create_topic("pg2ch.public.t", 1);
    cfg.sink = "kafka";
    cfg.kafka.brokers = broker.bootstrap();
    cfg.kafka.message_timeout = std::chrono::milliseconds(5000);
  }

  std::string sasl_password_file() const {
    const auto path = (db.dir() / "kafka.password").string();
    std::ofstream(path) << kSaslPassword << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
  }

  CliOutcome run_once(const std::string& tag) {
    return run_pg2ch(db, write_config_file(cfg, db.dir() / (tag + ".toml")), {"run", "--until-caught-up"}, tag);
  }
  // `pg2ch run` until its log shows `line` (librdkafka's account of the handshake), then stopped:
  // a broker that cannot be reached is transient for pg2ch, which retries and stays up.
  CliOutcome run_until_logged(const std::string& tag, const std::string& line) {
    auto p = ChildProcess::spawn_pg2ch({.args = {"--config", write_config_file(cfg, db.dir() / (tag + ".toml")).string(),
                                                 "run"},
                                        .env = {},
                                        .dir = db.dir(),
                                        .log_prefix = tag});
    const bool seen =
        wait_until([&] { return p.stderr_text().find(line) != std::string::npos || !p.running(); }, std::chrono::seconds(60));
    const int code = p.stop();
    EXPECT_TRUE(seen && p.stderr_text().find(line) != std::string::npos) << "no '" << line << "' in: " << p.describe();
    return {code, p.stdout_text(), p.stderr_text()};
  }

  static void expect_no_secrets(const CliOutcome& o) {
    for (const char* secret : {kSaslPassword, kKeyPassword}) {
      EXPECT_EQ(o.stderr_text.find(secret), std::string::npos) << o.stderr_text;
      EXPECT_EQ(o.stdout_text.find(secret), std::string::npos) << o.stdout_text;
    }
  }

  TestDatabase db = make_test_database();
  KafkaBroker broker;
  config::Config cfg = make_test_config(db, {"public.t"});
};

TEST_F(SecurityKafka, SaslIsSpokenAndNeverFallsBackToPlaintext) {
  cfg.kafka.security_protocol = "sasl_plaintext";
  cfg.kafka.sasl_mechanism = "SCRAM-SHA-256";
  cfg.kafka.sasl_username = "pg2ch";
  cfg.kafka.sasl_password_file = sasl_password_file();
  // The mechanism reached librdkafka, which insists on it: the mock broker has no SASL handshake.
  auto o = run_until_logged("sasl", "SASL Handshake not supported by broker (required by mechanism SCRAM-SHA-256)");
  EXPECT_TRUE(broker.read_all("pg2ch.public.t").empty()) << "nothing may reach a broker that did not authenticate";
  expect_no_secrets(o);
}

TEST_F(SecurityKafka, TlsIsSpokenWithTheTestCa) {
  const auto certs = make_test_certificates(db.dir() / "certs", "pg2ch");
  cfg.kafka.security_protocol = "ssl";
  cfg.kafka.ssl_ca_location = certs.ca_crt.string();
  cfg.kafka.ssl_certificate_location = certs.client_crt.string();
  cfg.kafka.ssl_key_location = certs.client_key.string();
  // The CA and the client certificate loaded (a bad file stops pg2ch at start, below); the
  // handshake then fails on the mock broker's plaintext listener.
  auto o = run_until_logged("ssl", "SSL handshake failed: Disconnected: connecting to a PLAINTEXT broker listener?");
  EXPECT_TRUE(broker.read_all("pg2ch.public.t").empty()) << "nothing may travel without TLS";
  expect_no_secrets(o);
}

TEST_F(SecurityKafka, ACaFileLibrdkafkaCannotLoadStopsPg2chAtStart) {
  cfg.kafka.security_protocol = "sasl_ssl";
  cfg.kafka.sasl_mechanism = "PLAIN";
  cfg.kafka.sasl_username = "pg2ch";
  cfg.kafka.sasl_password_file = sasl_password_file();
  cfg.kafka.ssl_ca_location = (db.dir() / "no-such-ca.crt").string();
  cfg.kafka.ssl_key_password = kKeyPassword;
  auto o = run_once("bad_ca");
  expect_one_line_error(o, {"ssl.ca.location"}, 2);
  expect_no_secrets(o);
}

}  // namespace
}  // namespace pg2ch::test::security
