#include "kafka/client_config.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.h"

namespace pg2ch::kafka {
namespace {

// librdkafka logs from its own threads; route them through spdlog so they share the process's
// format (text or JSON) and level. Its messages name brokers and topics, never credentials.
class SpdlogEvents final : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& e) override {
    switch (e.type()) {
      case RdKafka::Event::EVENT_LOG: {
        const int sev = e.severity();
        const auto lvl = sev <= 3 ? spdlog::level::warn : sev <= 5 ? spdlog::level::info : spdlog::level::debug;
        spdlog::log(lvl, "kafka {}: {}", e.fac(), e.str());
        return;
      }
      case RdKafka::Event::EVENT_ERROR:
        // Transient (brokers down, retries) unless fatal; a lost message still surfaces as a
        // failed delivery report, which is what stops the pipeline.
        spdlog::warn("kafka{}: {}", e.fatal() ? " FATAL" : "", e.str().empty() ? RdKafka::err2str(e.err()) : e.str());
        return;
      default: return;
    }
  }
};

SpdlogEvents g_events;

bool known_sasl_mechanism(const std::string& m) {
  for (const char* k : {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER"}) {
    if (m == k) return true;
  }
  return false;
}

}  // namespace

void set_property(RdKafka::Conf& conf, std::string_view property, const std::string& value, std::string_view setting,
                  bool secret) {
  std::string err;
  const std::string name(property);
  if (conf.set(name, value, err) == RdKafka::Conf::CONF_OK) return;
  const std::string shown = secret ? std::string("the value was refused") : err;
  throw Error(ErrorKind::Config, fmt::format("{} is not accepted by the Kafka client ({}: {})", setting, name, shown),
              fmt::format("fix {} in the config", setting));
}

ConfPtr make_base_conf() {
  ConfPtr conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(&g_events), err) != RdKafka::Conf::CONF_OK) {
    throw Error(ErrorKind::Internal, "setting the Kafka event callback: " + err);
  }
  return conf;
}

ConfPtr make_client_conf(const config::KafkaConfig& cfg, const std::string& client_id) {
  if (cfg.brokers.empty()) {
    throw Error(ErrorKind::Config, "kafka.brokers is not set",
                "list bootstrap brokers as host:port[,host:port] (KAFKA_BOOTSTRAP), e.g. 127.0.0.1:9092");
  }
  ConfPtr conf = make_base_conf();
  RdKafka::Conf& c = *conf;
  set_property(c, "bootstrap.servers", cfg.brokers, "kafka.brokers");
  set_property(c, "client.id", client_id, "name");
  set_property(c, "security.protocol", cfg.security_protocol, "kafka.security_protocol");
  // librdkafka only checks the mechanism when the client starts, and its message does not say
  // which setting was wrong: check it here.
  if (!cfg.sasl_mechanism.empty() && !known_sasl_mechanism(cfg.sasl_mechanism)) {
    throw Error(ErrorKind::Config, fmt::format("kafka.sasl_mechanism = \"{}\" is not a SASL mechanism", cfg.sasl_mechanism),
                "use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI or OAUTHBEARER");
  }
  if (!cfg.sasl_mechanism.empty()) set_property(c, "sasl.mechanisms", cfg.sasl_mechanism, "kafka.sasl_mechanism");
  if (!cfg.sasl_username.empty()) set_property(c, "sasl.username", cfg.sasl_username, "kafka.sasl_username");
  if (!cfg.sasl_password.empty()) {
    set_property(c, "sasl.password", cfg.sasl_password, "kafka.sasl_password", /*secret=*/true);
  }
  if (!cfg.ssl_ca_location.empty()) set_property(c, "ssl.ca.location", cfg.ssl_ca_location, "kafka.ssl_ca_location");
  if (!cfg.ssl_certificate_location.empty()) {
    set_property(c, "ssl.certificate.location", cfg.ssl_certificate_location, "kafka.ssl_certificate_location");
  }
  if (!cfg.ssl_key_location.empty()) {
    set_property(c, "ssl.key.location", cfg.ssl_key_location, "kafka.ssl_key_location");
  }
  if (!cfg.ssl_key_password.empty()) {
    set_property(c, "ssl.key.password", cfg.ssl_key_password, "kafka.ssl_key_password", /*secret=*/true);
  }
  return conf;
}

ConfPtr make_producer_conf(const config::KafkaConfig& cfg, const std::string& client_id) {
  ConfPtr conf = make_client_conf(cfg, client_id);
  RdKafka::Conf& c = *conf;
  // Durability: the source position is acknowledged from delivery reports, so a report must mean
  // "on every in-sync replica", and retries must not duplicate or reorder (idempotence).
  set_property(c, "enable.idempotence", "true", "kafka (producer)");
  set_property(c, "acks", "all", "kafka (producer)");
  set_property(c, "partitioner", "murmur2_random", "kafka (producer)");
  // Small batches wait at most 5 ms: latency stays close to the direct ClickHouse route while
  // busy streams still get large batches.
  set_property(c, "linger.ms", "5", "kafka (producer)");
  set_property(c, "compression.type", "lz4", "kafka (producer)");
  set_property(c, "message.timeout.ms", std::to_string(cfg.message_timeout.count()), "kafka.message_timeout_ms");
  return conf;
}

}  // namespace pg2ch::kafka
