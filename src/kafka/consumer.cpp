#include "kafka/consumer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <exception>

#include "common/error.h"
#include "kafka/client_config.h"
#include "kafka/offset_gap.h"
#include "kafka/topic_metadata.h"

namespace pg2ch::kafka {
namespace {

// librdkafka's C++ API hands out raw TopicPartition pointers the caller must delete.
struct PartitionList {
  std::vector<RdKafka::TopicPartition*> items;
  PartitionList() = default;
  explicit PartitionList(const std::vector<PartitionOffset>& parts) {
    items.reserve(parts.size());
    for (const auto& p : parts) items.push_back(RdKafka::TopicPartition::create(p.topic, p.partition, p.offset));
  }
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  ~PartitionList() { RdKafka::TopicPartition::destroy(items); }
};

std::vector<PartitionOffset> to_offsets(const std::vector<RdKafka::TopicPartition*>& parts) {
  std::vector<PartitionOffset> out;
  out.reserve(parts.size());
  for (const auto* p : parts) out.push_back({p->topic(), p->partition(), p->offset()});
  return out;
}

std::string describe(const std::string& topic, int partition) { return fmt::format("{}[{}]", topic, partition); }

Error kafka_error(const std::string& what, RdKafka::ErrorCode err, bool retriable = true) {
  return Error(ErrorKind::Connection, fmt::format("{}: {}", what, RdKafka::err2str(err)),
               "check that the Kafka brokers are reachable", retriable);
}

// Exceptions must not unwind through librdkafka's C frames: the rebalance callback stores its
// failure here and consume() rethrows it.
thread_local std::exception_ptr t_callback_failure;

}  // namespace

Consumer::Consumer(const config::KafkaConfig& cfg, const std::string& client_id, RebalanceHandler& handler)
    : handler_(handler), group_(cfg.group_id) {
  ConfPtr conf = make_client_conf(cfg, client_id);
  RdKafka::Conf& c = *conf;
  set_property(c, "group.id", cfg.group_id, "kafka.group_id");
  // Never let librdkafka move past messages on its own: its reset also fires when the position
  // is out of range, i.e. when retention deleted messages the group had not read, and silently
  // skipped them (issue 13 item 0). "error" makes that ERR__AUTO_OFFSET_RESET, which consume()
  // turns into a stop; cfg.auto_offset_reset is applied by the owner in on_assign, to partitions
  // without a committed offset only.
  set_property(c, "auto.offset.reset", "error", "kafka.auto_offset_reset");
  set_property(c, "session.timeout.ms", std::to_string(cfg.session_timeout.count()), "kafka.session_timeout_ms");
  // Offsets move only when ClickHouse has the rows: never let librdkafka commit or store on its own.
  set_property(c, "enable.auto.commit", "false", "kafka (consumer)");
  set_property(c, "enable.auto.offset.store", "false", "kafka (consumer)");
  std::string err;
  if (c.set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), err) != RdKafka::Conf::CONF_OK) {
    throw Error(ErrorKind::Internal, "setting the Kafka rebalance callback: " + err);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(&c, err));
  if (!consumer_) {
    throw Error(ErrorKind::Config, fmt::format("cannot create the Kafka consumer for {}: {}", cfg.brokers, err),
                "check the [kafka] settings");
  }
}

Consumer::~Consumer() {
  try {
    close();
  } catch (const std::exception& e) {
    spdlog::warn("leaving the Kafka consumer group: {}", e.what());
  }
}

void Consumer::close() {
  if (closed_) return;
  closed_ = true;
  consumer_->close();
  t_callback_failure = nullptr;  // a failure while closing was logged by the handler; nothing to rethrow to
}

void Consumer::subscribe(const std::vector<std::string>& topics) {
  if (const auto rc = consumer_->subscribe(topics); rc != RdKafka::ERR_NO_ERROR) {
    throw Error(ErrorKind::Config, fmt::format("subscribing to Kafka topics {}: {}", fmt::join(topics, ", "),
                                               RdKafka::err2str(rc)),
                "check the topic names (kafka.topic / kafka.topic_prefix)");
  }
}

void Consumer::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                            std::vector<RdKafka::TopicPartition*>& partitions) {
  try {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      std::vector<PartitionOffset> parts = to_offsets(partitions);
      handler_.on_assign(parts);
      for (std::size_t i = 0; i < parts.size(); ++i) partitions[i]->set_offset(parts[i].offset);
      consumer->assign(partitions);
      return;
    }
    handler_.on_revoke(to_offsets(partitions));
  } catch (...) {
    t_callback_failure = std::current_exception();
  }
  consumer->unassign();
}

std::unique_ptr<RdKafka::Message> Consumer::consume(std::chrono::milliseconds timeout) {
  std::unique_ptr<RdKafka::Message> msg(consumer_->consume(static_cast<int>(timeout.count())));
  if (t_callback_failure) std::rethrow_exception(std::exchange(t_callback_failure, nullptr));
  switch (msg->err()) {
    case RdKafka::ERR_NO_ERROR: return msg;
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__PARTITION_EOF: return nullptr;
    case RdKafka::ERR__AUTO_OFFSET_RESET: throw_out_of_range(*msg);
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR__UNKNOWN_TOPIC:
      // The producer side has not written (or created) the topic yet: keep waiting for it.
      spdlog::debug("kafka: {}", msg->errstr());
      return nullptr;
    default:
      if (msg->err() == RdKafka::ERR__FATAL) {
        throw Error(ErrorKind::Server, "Kafka consumer: fatal error: " + msg->errstr(), "restart pg2ch");
      }
      spdlog::warn("kafka consumer: {}", msg->errstr());
      return nullptr;
  }
}

void Consumer::throw_out_of_range(const RdKafka::Message& msg) {
  // The message carries the partition and the offset librdkafka could not fetch.
  const std::string topic = msg.topic_name();
  const int partition = msg.partition();
  if (msg.offset() >= 0) {
    const auto [low, high] = watermarks(topic, partition, std::chrono::seconds(10));
    if (const auto gap = find_offset_gap(msg.offset(), low, high)) throw offset_gap_error(topic, partition, group_, *gap);
  }
  throw Error(ErrorKind::Schema,
               fmt::format("Kafka partition {}: no offset to read from for group {}: {}", describe(topic, partition),
                           group_, msg.errstr()),
               "a resync may be needed: see docs/kafka.md#lost-messages");
}

void Consumer::commit(const std::vector<PartitionOffset>& offsets) {
  if (offsets.empty()) return;
  PartitionList list(offsets);
  const RdKafka::ErrorCode rc = consumer_->commitSync(list.items);
  if (rc != RdKafka::ERR_NO_ERROR) throw kafka_error("committing Kafka offsets", rc);
  for (const auto* p : list.items) {
    if (p->err() != RdKafka::ERR_NO_ERROR) {
      throw kafka_error(fmt::format("committing the offset of {}", describe(p->topic(), p->partition())), p->err());
    }
  }
}

void Consumer::pause(const std::string& topic, int partition) {
  PartitionList list({{topic, partition, PartitionOffset::kStored}});
  if (const auto rc = consumer_->pause(list.items); rc != RdKafka::ERR_NO_ERROR) {
    throw Error(ErrorKind::Internal, fmt::format("pausing {}: {}", describe(topic, partition), RdKafka::err2str(rc)));
  }
}

void Consumer::resume(const std::string& topic, int partition, std::int64_t offset) {
  PartitionList list({{topic, partition, PartitionOffset::kStored}});
  if (const auto rc = consumer_->resume(list.items); rc != RdKafka::ERR_NO_ERROR) {
    throw Error(ErrorKind::Internal, fmt::format("resuming {}: {}", describe(topic, partition), RdKafka::err2str(rc)));
  }
  // Messages fetched ahead while paused were dropped by the owner: read again from `offset`.
  std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(topic, partition, offset));
  if (const auto rc = consumer_->seek(*tp, 5000); rc != RdKafka::ERR_NO_ERROR) {
    throw kafka_error(fmt::format("seeking {} to offset {}", describe(topic, partition), offset), rc);
  }
}

int Consumer::partition_count(const std::string& topic, std::chrono::milliseconds timeout) {
  return topic_partitions(*consumer_, topic, timeout).count;
}

std::pair<std::int64_t, std::int64_t> Consumer::watermarks(const std::string& topic, int partition,
                                                           std::chrono::milliseconds timeout) {
  std::int64_t low = 0, high = 0;
  const RdKafka::ErrorCode rc =
      consumer_->query_watermark_offsets(topic, partition, &low, &high, static_cast<int>(timeout.count()));
  if (rc != RdKafka::ERR_NO_ERROR) throw kafka_error("reading the offsets of " + describe(topic, partition), rc);
  return {low, high};
}

std::optional<std::int64_t> Consumer::cached_high_watermark(const std::string& topic, int partition) {
  std::int64_t low = 0, high = 0;
  const RdKafka::ErrorCode rc = consumer_->get_watermark_offsets(topic, partition, &low, &high);
  if (rc != RdKafka::ERR_NO_ERROR || high < 0) return std::nullopt;
  return high;
}

std::int64_t Consumer::offset_for_time(const std::string& topic, int partition, std::int64_t ms,
                                       std::chrono::milliseconds timeout) {
  PartitionList list({{topic, partition, ms}});
  const RdKafka::ErrorCode rc = consumer_->offsetsForTimes(list.items, static_cast<int>(timeout.count()));
  if (rc != RdKafka::ERR_NO_ERROR) throw kafka_error("looking up offsets by time in " + describe(topic, partition), rc);
  const std::int64_t offset = list.items[0]->offset();
  // -1: no message at or after that time; the replay starts at the end.
  return offset >= 0 ? offset : watermarks(topic, partition, timeout).second;
}

std::vector<std::optional<std::int64_t>> Consumer::committed(const std::vector<PartitionOffset>& partitions,
                                                             std::chrono::milliseconds timeout) {
  PartitionList list(partitions);
  const RdKafka::ErrorCode rc = consumer_->committed(list.items, static_cast<int>(timeout.count()));
  if (rc != RdKafka::ERR_NO_ERROR) throw kafka_error("reading the group's committed offsets", rc);
  std::vector<std::optional<std::int64_t>> out;
  out.reserve(list.items.size());
  for (const auto* p : list.items) {
    out.push_back(p->offset() >= 0 ? std::optional<std::int64_t>(p->offset()) : std::nullopt);
  }
  return out;
}

}  // namespace pg2ch::kafka
