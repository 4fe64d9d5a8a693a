#include "sink/clickhouse/clickhouse_targets.h"
#include "sink/kafka/kafka_targets.h"
#include "sink/sink_targets.h"

namespace pg2ch::sink {

std::unique_ptr<SinkTargets> make_sink_targets(const config::Config& cfg) {
  if (cfg.sink == "kafka") return std::make_unique<kafka::KafkaTargets>(cfg.kafka.brokers);
  // "both": the Kafka half has nothing to prepare.
  return std::make_unique<clickhouse::ClickHouseTargets>(cfg);
}

}  // namespace pg2ch::sink
