#pragma once
// Facts about a topic from cluster metadata, shared by the producer and the consumer.
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <string>

namespace pg2ch::kafka {

struct TopicPartitions {
  int count = 0;                                  // 0: the topic does not exist (yet)
  RdKafka::ErrorCode error = RdKafka::ERR_NO_ERROR;  // the brokers' word on the topic, if any
};

// Throws Error(Connection, retriable) when the cluster does not answer within `timeout`.
TopicPartitions topic_partitions(RdKafka::Handle& client, const std::string& topic, std::chrono::milliseconds timeout);

}  // namespace pg2ch::kafka
