// The example configs shipped in packaging/examples (installed next to the systemd unit) load as
// they are, and say what the seed's split needs.
#include <gtest/gtest.h>

#include "config/config.h"

namespace pg2ch::config {
namespace {

Config load_example(const std::string& name) {
  LoadOptions options;
  options.read_default_env_file = false;
  options.config_path = std::string(PG2CH_SOURCE_DIR) + "/packaging/examples/" + name;
  return load(options);
}

TEST(ConfigExamples, ProducerPublishesToKafkaFromTheSlot) {
  const auto c = load_example("producer.toml");
  EXPECT_EQ(c.mode, "logical");
  EXPECT_EQ(c.sink, "kafka");
  EXPECT_EQ(c.state.path, "/var/lib/pg2ch/producer.state") << "inside the unit's StateDirectory";
}

TEST(ConfigExamples, ConsumerWritesTheTopicsToClickHouse) {
  const auto c = load_example("consumer.toml");
  EXPECT_EQ(c.mode, "kafka");
  EXPECT_EQ(c.sink, "clickhouse");
  EXPECT_EQ(c.kafka.topic_prefix, "pg2ch");
  EXPECT_EQ(c.state.path, "/var/lib/pg2ch/consumer.state");
}

}  // namespace
}  // namespace pg2ch::config
