#pragma once
// librdkafka client configuration from [kafka] settings.
//
// Every property is set through set_property(), which turns librdkafka's refusal into
// Error(Config) naming the pg2ch setting it came from. Secret values (sasl_password) never
// appear in messages: librdkafka's own error text can echo the value, so it is dropped for them.
#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"

namespace pg2ch::kafka {

using ConfPtr = std::unique_ptr<RdKafka::Conf>;

// Sets `property` = `value`; `setting` is the pg2ch name for the error ("kafka.brokers").
void set_property(RdKafka::Conf& conf, std::string_view property, const std::string& value,
                  std::string_view setting, bool secret = false);

// A global configuration that sends librdkafka's log lines and client errors to spdlog
// (otherwise it prints its own format on stderr).
ConfPtr make_base_conf();

// bootstrap.servers and security (plaintext/ssl/sasl_*) from `cfg`; `client_id` names this
// client in broker logs. Throws Error(Config) when kafka.brokers is empty.
ConfPtr make_client_conf(const config::KafkaConfig& cfg, const std::string& client_id);

// The idempotent producer on top of make_client_conf: acks=all, enable.idempotence=true,
// murmur2 partitioning (what the Java client and so Debezium use, so a key lands on the same
// partition either way).
ConfPtr make_producer_conf(const config::KafkaConfig& cfg, const std::string& client_id);

}  // namespace pg2ch::kafka
