#include "kafka/mock_cluster.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "common/error.h"
#include "kafka/client_config.h"

namespace pg2ch::kafka {

namespace {
rd_kafka_mock_cluster_t* as_cluster(void* p) { return static_cast<rd_kafka_mock_cluster_t*>(p); }
}  // namespace

MockCluster::MockCluster(int brokers) {
  ConfPtr conf = make_base_conf();
  std::string err;
  // The owner handle never connects anywhere; it only hosts the cluster's threads.
  set_property(*conf, "log_level", "3", "mock cluster");
  owner_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!owner_) throw Error(ErrorKind::Internal, "creating the mock Kafka cluster's client: " + err);
  cluster_ = rd_kafka_mock_cluster_new(owner_->c_ptr(), brokers);
  if (!cluster_) throw Error(ErrorKind::Internal, "librdkafka could not start a mock Kafka cluster");
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(as_cluster(cluster_));
}

MockCluster::~MockCluster() {
  if (cluster_) rd_kafka_mock_cluster_destroy(as_cluster(cluster_));
}

void MockCluster::create_topic(const std::string& topic, int partitions) {
  const rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(as_cluster(cluster_), topic.c_str(), partitions, 1);
  if (err) {
    throw Error(ErrorKind::Internal, fmt::format("creating topic {} on the mock cluster: {}", topic,
                                                 RdKafka::err2str(static_cast<RdKafka::ErrorCode>(err))));
  }
}

void MockCluster::set_down(int id) { rd_kafka_mock_broker_set_down(as_cluster(cluster_), id); }
void MockCluster::set_up(int id) { rd_kafka_mock_broker_set_up(as_cluster(cluster_), id); }

void MockCluster::fail_produce_requests(int count, RdKafka::ErrorCode err) {
  for (int i = 0; i < count; ++i) {
    rd_kafka_mock_push_request_errors(as_cluster(cluster_), 0 /* ApiKey Produce */, 1, static_cast<rd_kafka_resp_err_t>(err));
  }
}

}  // namespace pg2ch::kafka
