#include "kafka/kafka_change_sink.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.h"

namespace pg2ch::kafka {
namespace {

using pipeline::TableSchema;
using pipeline::ValueRef;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

KafkaChangeSink::KafkaChangeSink(const config::KafkaConfig& cfg, EnvelopeContext ctx)
    : cfg_(cfg), ctx_(std::move(ctx)), debezium_(cfg.format == "debezium") {
  if (cfg.format != "debezium" && cfg.format != "key") {
    throw Error(ErrorKind::Config, "kafka.format = \"" + cfg.format + "\" is not known", "use debezium or key");
  }
  producer_ = std::make_unique<Producer>(cfg_, "pg2ch-" + ctx_.connector_name,
                                         static_cast<DeliveryHandler&>(*this));
  spdlog::info("publishing changes to Kafka {} ({} format, topic {})", cfg_.brokers, cfg_.format,
               cfg_.topic.empty() ? cfg_.topic_prefix + ".<schema>.<table>" : cfg_.topic);
}

KafkaChangeSink::~KafkaChangeSink() = default;

// A delivery that failed for a reason a retry cannot fix must not be retried by the service (each
// retry re-sends the transaction): a message the brokers refuse by size, a topic or cluster this
// client may not write to, a topic that does not exist. Brokers away or slow stay transient.
ErrorKind delivery_failure_kind(int code) {
  switch (static_cast<RdKafka::ErrorCode>(code)) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_INVALID_MSG_SIZE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
      return ErrorKind::Data;
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RdKafka::ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return ErrorKind::Permission;
    case RdKafka::ERR_SASL_AUTHENTICATION_FAILED:
    case RdKafka::ERR__AUTHENTICATION:
      return ErrorKind::Auth;
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR_TOPIC_EXCEPTION:
      return ErrorKind::Config;
    default:
      return ErrorKind::Connection;
  }
}

void KafkaChangeSink::on_delivery(const DeliveryReport& r) noexcept {
  if (!r.ok) {
    // Keep the first failure: it is the one the operator has to fix. The message stays
    // outstanding in deliveries_, which pins durable_position() below its transaction.
    if (!failure_) failure_ = Failure{std::string(r.topic), std::string(r.error), r.error_code};
    return;
  }
  deliveries_.delivered(r.tag);
  ++stats_.rows_written;
  stats_.bytes_written += r.bytes;
  ++delivered_since_poll_;
  delivered_bytes_since_poll_ += r.bytes;
}

void KafkaChangeSink::throw_if_failed() const {
  if (!failure_) return;
  throw Error(delivery_failure_kind(failure_->code),
              fmt::format("Kafka did not accept a message for topic {}: {}", failure_->topic, failure_->reason),
              "nothing from that transaction on was acknowledged to the source; fix the brokers or the topic and "
              "restart pg2ch, which sends those changes again");
}

const KafkaChangeSink::TableTopic& KafkaChangeSink::topic_for(const TableSchema& table) {
  auto it = topics_.find(&table);
  if (it != topics_.end()) return it->second;
  const std::string own = cfg_.topic_prefix + "." + table.source_schema + "." + table.source_name;
  TableTopic t = cfg_.topic.empty() ? TableTopic{own, {}} : TableTopic{cfg_.topic, own};
  return topics_.emplace(&table, std::move(t)).first->second;
}

void KafkaChangeSink::send(const std::string& topic, int partition, std::optional<std::string_view> key,
                           std::optional<std::string_view> value) {
  throw_if_failed();
  const std::uint64_t seq = acks_.current_seq();
  producer_->produce(topic, partition, key, value, seq);
  deliveries_.sent(seq);
  sent_to_.insert(topic);
}

void KafkaChangeSink::send_change(const TableSchema& table, char op, std::span<const ValueRef> before,
                                  std::span<const ValueRef> after, std::uint64_t version) {
  const TableTopic& t = topic_for(table);
  const std::span<const ValueRef> key_row = after.empty() ? before : after;
  const std::string key = message_key(table, key_row, t.identifier);
  const std::string value = debezium_ ? debezium_value(ctx_, table, op, before, after, version, event_times())
                                      : key_event(table, op, key_row, version, tx_.xid);
  send(t.topic, -1, key, value);
  // Debezium follows a delete with a tombstone so a compacted topic can drop the key.
  if (debezium_ && op == 'd' && cfg_.tombstones) send(t.topic, -1, key, std::nullopt);
}

void KafkaChangeSink::begin_transaction() {
  throw_if_failed();
  acks_.begin();
  tx_ = {};
}

EventTimes KafkaChangeSink::event_times() const {
  const std::int64_t now = now_ms();
  return {now, tx_.commit_time_ms.value_or(now), tx_.xid};
}

void KafkaChangeSink::insert(const TableSchema& table, std::span<const ValueRef> row, std::uint64_t version) {
  send_change(table, version == pipeline::kSnapshotVersion ? 'r' : 'c', {}, row, version);
}

void KafkaChangeSink::update(const TableSchema& table, std::span<const ValueRef> old_row,
                             std::span<const ValueRef> new_row, std::uint64_t version) {
  if (!old_row.empty() && !pipeline::same_key(table, old_row, new_row)) {
    send_change(table, 'd', old_row, {}, version);
    send_change(table, 'c', {}, new_row, version);
    return;
  }
  // REPLICA IDENTITY FULL sends the whole old row, detoasted: unchanged TOAST values of the new
  // row are taken from it. Otherwise they stay the placeholder (see envelope.h).
  const bool old_is_full = table.replica_identity == 'f' && !old_row.empty();
  std::vector<ValueRef> filled;
  std::span<const ValueRef> after = new_row;
  if (old_is_full) {
    filled.assign(new_row.begin(), new_row.end());
    for (std::size_t i = 0; i < filled.size() && i < old_row.size(); ++i) {
      if (filled[i].kind == ValueRef::Kind::UnchangedToast) filled[i] = old_row[i];
    }
    after = filled;
  }
  // Debezium's "before" is the old row only under REPLICA IDENTITY FULL; a key-only old tuple
  // (same key) carries nothing a consumer could use.
  send_change(table, 'u', old_is_full ? old_row : std::span<const ValueRef>{}, after, version);
}

void KafkaChangeSink::remove(const TableSchema& table, std::span<const ValueRef> old_row, std::uint64_t version) {
  send_change(table, 'd', old_row, {}, version);
}

void KafkaChangeSink::truncate(const TableSchema& table) {
  const TableTopic& t = topic_for(table);
  const int partitions = producer_->partition_count(t.topic, std::chrono::seconds(10));
  const std::string value = debezium_ ? debezium_truncate(ctx_, table, event_times()) : key_event(table, 't', {}, 0);
  for (int p = 0; p < partitions; ++p) send(t.topic, p, std::nullopt, value);
  spdlog::info("TRUNCATE of {}: op t sent to {} partition(s) of {}", table.qualified_source(), partitions, t.topic);
}

bool KafkaChangeSink::consumers_may_hold(const TableSchema& table) {
  const std::string& topic = topic_for(table).topic;
  return sent_to_.contains(topic) || producer_->ever_held_messages(topic, std::chrono::seconds(10));
}

void KafkaChangeSink::commit_transaction(pipeline::Position position) {
  acks_.commit(position);
  advance_acks();
}

void KafkaChangeSink::source_idle(pipeline::Position position) {
  acks_.idle(position);
  advance_acks();
}

void KafkaChangeSink::advance_acks() {
  if (delivered_since_poll_ > 0) {
    ++stats_.inserts;
    if (observer_) observer_->delivered(delivered_since_poll_, delivered_bytes_since_poll_);
    delivered_since_poll_ = 0;
    delivered_bytes_since_poll_ = 0;
  }
  acks_.advance(deliveries_.oldest_pending());
}

std::optional<std::chrono::milliseconds> KafkaChangeSink::poll() {
  producer_->poll(std::chrono::milliseconds(0));
  throw_if_failed();
  advance_acks();
  // While messages are in flight the capture must come back soon: their reports move the
  // durable position even when the source is quiet.
  if (deliveries_.in_flight() > 0) return std::chrono::milliseconds(10);
  return std::nullopt;
}

void KafkaChangeSink::flush() {
  const auto deadline = std::chrono::steady_clock::now() + flush_timeout_;
  while (deliveries_.in_flight() > 0 && !failure_ && std::chrono::steady_clock::now() < deadline) {
    producer_->flush(std::chrono::milliseconds(100));
    producer_->poll(std::chrono::milliseconds(0));
  }
  throw_if_failed();
  advance_acks();
  if (deliveries_.in_flight() > 0) {
    spdlog::warn("Kafka has not confirmed {} message(s) after {} ms; their changes are not acknowledged to the source",
                 deliveries_.in_flight(), flush_timeout_.count());
  }
}

}  // namespace pg2ch::kafka
