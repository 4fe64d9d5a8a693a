#pragma once
// An in-process Kafka cluster (librdkafka's mock cluster) for tests and `pg2ch dev kafka`.
//
// It speaks the real Kafka protocol on loopback TCP ports, so any client (pg2ch, kcat,
// ClickHouse's Kafka engine) can use it; everything lives in memory and is gone when the object
// is destroyed. It is a TEST broker: no persistence, no security, no limits.
#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <string>

namespace pg2ch::kafka {

class MockCluster {
 public:
  // Starts `brokers` brokers (ids 1..brokers) on free loopback ports. Throws Error(Internal).
  explicit MockCluster(int brokers = 1);
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;
  ~MockCluster();

  // "127.0.0.1:port[,...]": what clients use as bootstrap.servers.
  const std::string& bootstrap() const { return bootstrap_; }
  // Creates `topic` with `partitions` partitions (replication factor 1). Topics a producer
  // names that do not exist are auto-created with librdkafka's default partition count.
  void create_topic(const std::string& topic, int partitions);
  // Broker `id` drops its connections and refuses new ones until set_up().
  void set_down(int id);
  void set_up(int id);
  // The next `count` produce requests fail with `err` (fault tests: a non-retriable error such
  // as ERR_TOPIC_AUTHORIZATION_FAILED makes deliveries fail at once).
  void fail_produce_requests(int count, RdKafka::ErrorCode err);

 private:
  std::unique_ptr<RdKafka::Producer> owner_;  // the cluster lives inside this (otherwise idle) client
  void* cluster_ = nullptr;                   // rd_kafka_mock_cluster_t*
  std::string bootstrap_;
};

}  // namespace pg2ch::kafka
