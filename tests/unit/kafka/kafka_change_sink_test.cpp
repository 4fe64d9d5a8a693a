// KafkaChangeSink against an in-process mock cluster: the durable position follows delivery
// reports, never runs ahead of them, and a failed delivery stops the sink with the topic named.
#include "kafka/kafka_change_sink.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/error.h"
#include "kafka/mock_cluster.h"
#include "kafka_test_support.h"

namespace pg2ch::kafka {
namespace {

using namespace std::chrono_literals;
using pipeline::ValueRef;
namespace oid = types::oid;

class KafkaChangeSinkTest : public ::testing::Test {
 protected:
  KafkaChangeSinkTest() {
    cluster.create_topic("pg2ch.public.t", 3);
    cfg.brokers = cluster.bootstrap();
  }

  std::unique_ptr<KafkaChangeSink> make_sink() {
    auto s = std::make_unique<KafkaChangeSink>(cfg, EnvelopeContext{"test", "db"});
    s->set_flush_timeout(2s);
    return s;
  }

  // One transaction of `rows` inserts committed at `position`.
  void write_transaction(KafkaChangeSink& sink, int first_id, int rows, std::uint64_t position) {
    sink.begin_transaction();
    for (int i = 0; i < rows; ++i) {
      const std::uint32_t be = __builtin_bswap32(static_cast<std::uint32_t>(first_id + i));
      const std::string id(reinterpret_cast<const char*>(&be), 4);
      std::vector<ValueRef> row{ValueRef::binary(id), ValueRef::binary("v")};
      sink.insert(table, row, position - 1);
    }
    sink.commit_transaction(position);
  }

  bool wait_durable(KafkaChangeSink& sink, std::uint64_t position, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      sink.poll();
      if (sink.durable_position() == position) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  MockCluster cluster;
  config::KafkaConfig cfg;
  pipeline::TableSchema table = test::make_table("public", "t", {{"id", oid::kInt4, true}, {"v", oid::kText}});
};

TEST_F(KafkaChangeSinkTest, DurableAfterDeliveryReports) {
  auto sink = make_sink();
  EXPECT_FALSE(sink->durable_position());
  write_transaction(*sink, 1, 100, 1000);
  write_transaction(*sink, 101, 100, 2000);
  ASSERT_TRUE(wait_durable(*sink, 2000, 10s));
  EXPECT_EQ(sink->in_flight(), 0u);
  EXPECT_EQ(sink->stats().rows_written, 200u);
  sink->source_idle(3000);
  EXPECT_EQ(sink->durable_position(), 3000u) << "an idle position with nothing in flight is durable at once";
}

TEST_F(KafkaChangeSinkTest, NothingDurableWhileTheBrokerIsDown) {
  cluster.set_down(1);
  auto sink = make_sink();
  write_transaction(*sink, 1, 50, 1000);
  sink->source_idle(1500);
  EXPECT_FALSE(wait_durable(*sink, 1000, 1500ms));
  EXPECT_FALSE(sink->durable_position()) << "messages pending: nothing may be acknowledged";
  EXPECT_EQ(sink->in_flight(), 50u);
  sink->flush();  // bounded: returns with the messages still pending
  EXPECT_FALSE(sink->durable_position());

  cluster.set_up(1);
  ASSERT_TRUE(wait_durable(*sink, 1500, 20s)) << "delivered once the broker is back";
  EXPECT_EQ(sink->stats().rows_written, 50u);
}

TEST_F(KafkaChangeSinkTest, FailedDeliveryStopsWithTheTopicAndPinsThePosition) {
  auto sink = make_sink();
  write_transaction(*sink, 1, 1, 1000);
  ASSERT_TRUE(wait_durable(*sink, 1000, 10s));
  cluster.fail_produce_requests(50, RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED);
  write_transaction(*sink, 2, 5, 2000);
  try {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      sink->poll();
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "a failed delivery must stop the sink";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pg2ch.public.t"), std::string::npos) << e.what();
  }
  EXPECT_EQ(sink->durable_position(), 1000u) << "nothing acknowledged past the failed message";
  EXPECT_THROW(sink->begin_transaction(), Error) << "the sink stays stopped";
}

TEST_F(KafkaChangeSinkTest, ConfigErrorsNameTheSetting) {
  config::KafkaConfig bad = cfg;
  bad.brokers.clear();
  try {
    KafkaChangeSink s(bad, {"test", "db"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("kafka.brokers"), std::string::npos);
  }
  bad = cfg;
  bad.security_protocol = "sasl_plaintext";
  bad.sasl_mechanism = "NOPE";
  bad.sasl_password = "hunter2-secret";
  try {
    KafkaChangeSink s(bad, {"test", "db"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("kafka.sasl_mechanism"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.one_line()).find("hunter2"), std::string::npos) << "secrets never in errors";
  }
}

}  // namespace
}  // namespace pg2ch::kafka
