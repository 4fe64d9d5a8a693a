#include "capture/kafka_consumer/topic_consumer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

#include "capture/kafka_consumer/start_columns.h"
#include "common/error.h"
#include "kafka/change_event.h"
#include "kafka/event_row.h"
#include "kafka/offset_gap.h"
#include "pipeline/key_text.h"

namespace pg2ch::capture::kafka_consumer {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kMetadataTimeout = std::chrono::seconds(10);
constexpr auto kIdleWait = std::chrono::milliseconds(100);

// The fix for a table stopped by a change of its columns the consumer does not follow in place.
constexpr const char* kColumnsNotFollowedFix =
    "make its ClickHouse target fit the source's columns by hand (a start that finds it differing names the ALTER "
    "TABLE to run in the table's stop reason) and restart pg2ch: it reads the table's skipped messages again from the "
    "offsets it recorded";

std::string where(const RdKafka::Message& msg) {
  return fmt::format("{}[{}] offset {}", msg.topic_name(), msg.partition(), msg.offset());
}

std::optional<std::string_view> value_of(const RdKafka::Message& msg) {
  if (msg.payload() == nullptr) return std::nullopt;
  return std::string_view(static_cast<const char*>(msg.payload()), msg.len());
}

// Identity of a key within a table, for keeping only the last key-only event of a key per segment.
std::string key_identity(const pipeline::TableSchema& table, const pipeline::OwnedRow& row) {
  std::string k = std::to_string(table.relation_oid);
  for (const auto& v : row.values) {
    k += static_cast<char>(v.kind);
    k += std::to_string(v.data.size());
    k += ':';
    k += v.data;
  }
  return k;
}

}  // namespace

std::vector<std::string> TopicConsumer::topics_for(const config::Config& cfg,
                                                   const std::vector<const pipeline::TableSchema*>& tables) {
  if (!cfg.kafka.topic.empty()) return {cfg.kafka.topic};
  std::vector<std::string> topics;
  for (const auto* t : tables) {
    topics.push_back(fmt::format("{}.{}.{}", cfg.kafka.topic_prefix, t->source_schema, t->source_name));
  }
  return topics;
}

TopicConsumer::TopicConsumer(const config::Config& cfg, std::vector<const pipeline::TableSchema*> tables,
                             table_sync::TableStates& states, pipeline::ChangeSink& sink,
                             pipeline::CurrentRowFetcher& fetcher, std::optional<ReplayStart> replay)
    : cfg_(cfg), states_(states), sink_(sink), fetcher_(fetcher), replay_(std::move(replay)) {
  for (const auto* t : tables) tables_[{t->source_schema, t->source_name}] = t;
  if (!cfg.kafka.dead_letter_topic.empty()) {
    dead_letters_ = std::make_unique<kafka::DeadLetterQueue>(cfg.kafka, cfg.name + "-dead-letters");
  }
  kafka::RebalanceHandler& rebalance = *this;
  consumer_ = std::make_unique<kafka::Consumer>(cfg.kafka, cfg.name + "-consumer", rebalance);
  topics_ = topics_for(cfg, tables);
  consumer_->subscribe(topics_);
  sink_.set_refusal_handler(
      [this](const pipeline::TableSchema& table, const Error& error) { return stop_refused(table, error); });
}

// Leaving the group runs on_revoke, which uses the segment and ledger: close before they die.
TopicConsumer::~TopicConsumer() {
  sink_.set_refusal_handler({});
  try {
    consumer_->close();
  } catch (const std::exception& e) {
    spdlog::warn("kafka consumer: leaving the group: {}", e.what());
  }
}

void TopicConsumer::start(bool stop_when_caught_up, const std::set<const pipeline::TableSchema*>& unfit) {
  using table_sync::TablePhase;
  std::vector<const pipeline::TableSchema*> to_stream;
  for (const auto& [_, t] : tables_) {
    const table_sync::TableState& s = states_.at(*t);
    if (unfit.contains(t)) {
      spdlog::warn("table {} stays stopped, its messages are skipped: {} (fix: {})", t->qualified_source(), s.reason,
                   s.fix);
      continue;
    }
    // A lost target (kLostTarget), or one stopped for a change of its columns the queued events
    // cannot give (its fix: copied into the topics again, its target re-created), comes back only
    // with a replay; nothing else brings its rows.
    const bool lost_target = s.phase == TablePhase::Stopped && s.reason.starts_with(kLostTarget);
    const bool change_not_followed = stopped_for_change_not_followed(s);
    const bool replay_only = lost_target || change_not_followed;
    if (s.phase == TablePhase::Stopped &&
        (replay_only ? !replay_
                     : !states_.changed_since_recorded(*t) && !table_sync::stopped_by_refused_insert(s) &&
                           !stopped_for_unfit_target(s))) {
      spdlog::warn("table {} stays stopped, its messages are skipped: {} (fix: {})", t->qualified_source(), s.reason,
                   s.fix);
      continue;
    }
    if (replay_ && (s.phase == TablePhase::Stopped || s.phase == TablePhase::CatchingUp)) {
      // The operator chose where every partition is read from (e.g. the recovery from lost
      // messages: the table copied into the topic again, its target emptied, a replay from the
      // beginning): that, not the recorded offsets, decides what the table gets.
      spdlog::info("table {}: {}; the replay from {} decides what it reads, not the offsets it recorded",
                   t->qualified_source(),
                   lost_target                          ? "its target was lost"
                   : change_not_followed                ? "its columns changed while pg2ch was stopped"
                   : s.phase == TablePhase::Stopped     ? "its config changed since it stopped"
                                                        : "it was catching up",
                   replay_->text);
      to_stream.push_back(t);
      continue;
    }
    if (s.phase == TablePhase::Stopped || s.phase == TablePhase::CatchingUp) {
      // The group's offsets now bound what was applied already, its messages read again are not
      // applied again (table_offsets.h). Also for a table still catching up from an earlier
      // start: what that start applied past its replay_until is below the offsets now.
      std::vector<kafka::PartitionOffset> parts;
      for (const auto& [tp, _] : s.skipped_from) parts.push_back({tp.first, tp.second, kafka::PartitionOffset::kStored});
      const auto committed = consumer_->committed(parts, kMetadataTimeout);
      PartitionOffsets until;
      for (std::size_t i = 0; i < parts.size(); ++i) {
        const TopicPartition tp{parts[i].topic, parts[i].partition};
        until[tp] = committed[i].value_or(s.skipped_from.at(tp));
      }
      const bool was_stopped = s.phase == TablePhase::Stopped;
      states_.resume(*t, until);
      const char* why = !was_stopped                                  ? "still catching up"
                        : table_sync::stopped_by_refused_insert(s) ? "ClickHouse refused its rows before"
                        : stopped_for_unfit_target(s)              ? "its target fits its columns now"
                                                                   : "its config changed since it stopped";
      spdlog::info("table {}: {}; reading its skipped messages again from {}", t->qualified_source(), why,
                   table_sync::format_partition_offsets(states_.at(*t).skipped_from));
    }
    if (states_.phase(*t) == TablePhase::CatchingUp) {
      auto& pending = catching_up_[t];
      for (const auto& [tp, _] : states_.at(*t).skipped_from) pending.insert(tp);
    } else if (states_.phase(*t) != TablePhase::Streaming) {
      to_stream.push_back(t);  // new, or from before tables had states here: no copy in this mode
    }
  }
  if (!to_stream.empty()) states_.set(to_stream, TablePhase::Streaming);
  caught_up_tables();
  stop_when_caught_up_ = stop_when_caught_up;
  if (stop_when_caught_up) record_targets();
}

std::optional<std::int64_t> TopicConsumer::replay_until(const TopicPartition& tp) const {
  std::optional<std::int64_t> until;
  for (const auto& [t, _] : catching_up_) {
    const auto& offsets = states_.at(*t).replay_until;
    if (const auto it = offsets.find(tp); it != offsets.end()) until = std::max(until.value_or(it->second), it->second);
  }
  return until;
}

void TopicConsumer::note_committed(const std::vector<kafka::PartitionOffset>& offsets) {
  if (catching_up_.empty()) return;
  for (auto& [t, pending] : catching_up_) {
    const auto& until = states_.at(*t).replay_until;
    for (const auto& o : offsets) {
      const TopicPartition tp{o.topic, o.partition};
      const auto it = until.find(tp);
      if (pending.contains(tp) && (it == until.end() || o.offset >= it->second)) pending.erase(tp);
    }
  }
  caught_up_tables();
}

void TopicConsumer::caught_up_tables() {
  for (auto it = catching_up_.begin(); it != catching_up_.end();) {
    if (!it->second.empty()) {
      ++it;
      continue;
    }
    states_.set(*it->first, table_sync::TablePhase::Streaming);
    spdlog::info("table {} caught up: its skipped messages are in ClickHouse; streaming", it->first->qualified_source());
    it = catching_up_.erase(it);
  }
}

capture::Turn TopicConsumer::turn(std::chrono::milliseconds max_wait) {
  // Wait for the first message only as long as the sink can wait; then take what is ready.
  auto wait = std::min(kIdleWait, max_wait);
  if (const auto due = sink_.poll()) wait = std::clamp(*due, std::chrono::milliseconds(0), wait);
  auto msg = consumer_->consume(wait);
  // Nothing arrived within the wait: the topics are quiet. (Not when only the non-waiting
  // reads below come back empty: under steady load the local queue empties between fetches.)
  const bool idle = !msg;
  for (; msg; msg = consumer_->consume(std::chrono::milliseconds(0))) {
    read_.push_back(std::move(msg));
    if (read_.size() >= kMaxSegmentMessages) break;
  }
  handle_read();
  commit_replay_starts();
  apply_segment();
  // Like a replication keepalive: with nothing more to read, the sink flushes what it holds
  // after batch.idle_flush_ms instead of waiting out batch.max_delay_ms.
  if (idle && segment_seq_ > 0) sink_.source_idle(segment_seq_);
  sink_.poll();
  commit_durable();
  return stop_when_caught_up_ && caught_up() ? capture::Turn::CaughtUp : capture::Turn::More;
}

void TopicConsumer::finish() {
  handle_read();
  apply_segment();
  sink_.flush();
  commit_durable();
  consumer_->close();
}

std::optional<std::int64_t> TopicConsumer::pending_messages() {
  std::optional<std::int64_t> total;
  for (const auto& [tp, next] : positions_) {
    const auto high = consumer_->cached_high_watermark(tp.first, tp.second);
    if (!high) continue;
    total = total.value_or(0) + std::max<std::int64_t>(0, *high - next);
  }
  return total;
}

void TopicConsumer::record_targets() {
  for (const auto& topic : topics_) {
    const int n = partitions_of(topic);
    for (int p = 0; p < n; ++p) {
      const auto [low, high] = consumer_->watermarks(topic, p, kMetadataTimeout);
      if (high > low) targets_[{topic, p}] = high;
    }
  }
}

int TopicConsumer::partitions_of(const std::string& topic) {
  if (auto it = partition_counts_.find(topic); it != partition_counts_.end()) return it->second;
  const int n = consumer_->partition_count(topic, kMetadataTimeout);
  if (n > 0) partition_counts_[topic] = n;
  return n;
}

bool TopicConsumer::caught_up() const {
  if (!segment_.empty() || !barrier_.empty() || !ledger_.settled()) return false;
  for (const auto& [tp, high] : targets_) {
    const auto it = positions_.find(tp);
    if (it == positions_.end() || it->second < high) return false;
  }
  return true;
}

void TopicConsumer::on_assign(std::vector<kafka::PartitionOffset>& partitions) {
  const auto committed = consumer_->committed(partitions, kMetadataTimeout);
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    auto& p = partitions[i];
    const TopicPartition tp{p.topic, p.partition};
    assigned_.insert(tp);
    const auto [low, high] = consumer_->watermarks(p.topic, p.partition, kMetadataTimeout);
    if (replay_ && !replayed_.contains(tp)) {
      std::int64_t start = low;
      switch (replay_->kind) {
        case ReplayStart::Kind::Beginning: start = low; break;
        case ReplayStart::Kind::End: start = high; break;
        case ReplayStart::Kind::Offset: start = std::clamp(replay_->value, low, high); break;
        case ReplayStart::Kind::Time:
          start = consumer_->offset_for_time(p.topic, p.partition, replay_->value, kMetadataTimeout);
          break;
      }
      p.offset = start;
      replayed_.insert(tp);
      replay_commit_.push_back({p.topic, p.partition, start});
      spdlog::info("kafka replay: {}[{}] from offset {} ({}; kept {}..{})", p.topic, p.partition, start,
                   replay_->text, low, high);
    } else if (committed[i]) {
      p.offset = *committed[i];  // checked against what the broker keeps below
    } else {
      // The group never committed here: auto_offset_reset applies, and only here (librdkafka's
      // own reset is off, see kafka/consumer.cpp). Resolved by librdkafka when it starts fetching.
      p.offset = cfg_.kafka.auto_offset_reset == "latest" ? kafka::PartitionOffset::kEnd
                                                          : kafka::PartitionOffset::kBeginning;
    }
    // A catching-up table reads its recorded partitions again from where it skipped
    // (table_offsets.h); the earliest such offset of all of them.
    std::optional<std::int64_t> resume_at;
    for (const auto& [t, pending] : catching_up_) {
      if (!pending.contains(tp)) continue;
      const std::int64_t from = states_.at(*t).skipped_from.at(tp);
      resume_at = std::min(resume_at.value_or(from), from);
    }
    if (resume_at) {
      // Without a committed offset the group starts at the beginning (which holds the skipped
      // messages, unless the check finds them gone) or at the end (then from them).
      if (p.offset >= 0 || p.offset == kafka::PartitionOffset::kEnd) {
        p.offset = resume_start(p.offset >= 0 ? std::optional<std::int64_t>(p.offset) : std::nullopt, *resume_at);
      } else if (const auto gap = kafka::find_offset_gap(*resume_at, low, high)) {
        throw kafka::offset_gap_error(p.topic, p.partition, cfg_.kafka.group_id, *gap);
      }
      spdlog::info("kafka consumer: {}[{}] read again from offset {} for the tables catching up (messages applied "
                   "when first read are not applied again)",
                   p.topic, p.partition, p.offset >= 0 ? p.offset : low);
      // Nothing to read again when reading starts at or past where the stop left the group.
      for (auto& [t, pending] : catching_up_) {
        const auto& until = states_.at(*t).replay_until;
        const auto it = until.find(tp);
        if (p.offset >= 0 && it != until.end() && p.offset >= it->second) pending.erase(tp);
      }
    }
    // Go on from the group's offset (or where a catching-up table reads again) only if the broker
    // still has every message from it on. (A replay's start is within what it keeps.)
    if (p.offset >= 0) {
      if (const auto gap = kafka::find_offset_gap(p.offset, low, high)) {
        throw kafka::offset_gap_error(p.topic, p.partition, cfg_.kafka.group_id, *gap);
      }
    }
    // Where reading starts, for knowing when the consumer has caught up.
    const std::int64_t position = p.offset >= 0 ? p.offset : p.offset == kafka::PartitionOffset::kEnd ? high : low;
    positions_[tp] = std::max(position, low);
  }
  spdlog::info("kafka consumer: assigned {} partition(s)", partitions.size());
  caught_up_tables();
}

void TopicConsumer::on_revoke(const std::vector<kafka::PartitionOffset>& partitions) {
  // Everything read so far goes to ClickHouse and its offsets to the group before another member
  // takes over, so it neither loses nor needlessly repeats work.
  commit_replay_starts();
  handle_read();  // read before the revoke: applied and committed by this member
  apply_segment();
  sink_.flush();
  commit_durable();
  for (const auto& p : partitions) {
    const TopicPartition tp{p.topic, p.partition};
    ledger_.forget(tp);
    assigned_.erase(tp);
    positions_.erase(tp);
  }
  // Partitions paused at a truncate are given up without their truncate applied: the offsets
  // committed stop at the truncate message, so its next owner reads it again.
  barrier_.clear();
  spdlog::info("kafka consumer: {} partition(s) revoked", partitions.size());
}

void TopicConsumer::note_offset(const RdKafka::Message& msg, std::int64_t next) {
  const TopicPartition tp{msg.topic_name(), msg.partition()};
  segment_offsets_[tp] = next;
  positions_[tp] = next;
}

void TopicConsumer::handle_read() {
  // After every message of the batch was read: a message of a new shape was produced after its
  // ALTER committed, so the look that handle() takes before its table's first one sees it.
  looked_.clear();
  sought_.clear();
  auto read = std::move(read_);
  read_.clear();
  for (auto& msg : read) {
    // Read before its partition was sought elsewhere (a truncate's barrier released): librdkafka
    // delivers it again from there, so it is not handled twice.
    if (sought_.contains({msg->topic_name(), msg->partition()})) continue;
    handle(std::move(msg));
  }
}

bool TopicConsumer::columns_followed(const pipeline::TableSchema& table) {
  if (!columns_ || !looked_.insert(&table).second || !columns_->differs(table)) return true;
  // The rows of the old shape read before are written with it (they were decoded by it).
  apply_segment();
  if (is_stopped(table)) return false;
  auto why_not = columns_->follow(table);
  if (!why_not) return true;
  stop_with_undurable(table,
                      fmt::format("its columns changed at the source in a way not followed in place: {}", *why_not),
                      kColumnsNotFollowedFix);
  return false;
}

void TopicConsumer::handle(std::unique_ptr<RdKafka::Message> msg) {
  // A partition waiting at a truncate: librdkafka may still hand out messages it fetched ahead;
  // they are read again after the truncate (resume seeks back).
  if (barrier_.is_paused(msg->topic_name(), msg->partition())) return;
  ++stats_.messages;
  std::unique_ptr<kafka::ChangeEvent> ev;
  try {
    ev = kafka::decode_change_event(value_of(*msg));
  } catch (const Error& e) {
    reject_on_arrival(*msg, e.one_line());
    return;
  }
  if (ev->kind == kafka::ChangeEvent::Kind::Tombstone) {
    ++stats_.skipped;
    note_offset(*msg, msg->offset() + 1);
    return;
  }
  const auto it = tables_.find({ev->schema, ev->table});
  if (it == tables_.end()) {
    // A shared topic carries tables this pipeline does not replicate: that is configuration,
    // not an error; say it once per table.
    if (unknown_tables_logged_.insert({ev->schema, ev->table}).second) {
      spdlog::info("kafka consumer: skipping events of {}.{} (not in this config's [[tables]])", ev->schema, ev->table);
    }
    ++stats_.skipped;
    note_offset(*msg, msg->offset() + 1);
    return;
  }
  const pipeline::TableSchema& table = *it->second;
  if (is_stopped(table)) {
    skip_stopped(table, *msg);
    note_offset(*msg, msg->offset() + 1);
    return;
  }
  // Read again for a table catching up, and applied the first time (table_offsets.h).
  if (already_applied(states_.at(table), {msg->topic_name(), msg->partition()}, msg->offset(),
                      replay_until({msg->topic_name(), msg->partition()}))) {
    ++stats_.skipped;
    note_offset(*msg, msg->offset() + 1);
    return;
  }
  if (ev->kind == kafka::ChangeEvent::Kind::Truncate) {
    handle_truncate(table, *msg);
    return;
  }
  if (!columns_followed(table)) {
    skip_stopped(table, *msg);
    note_offset(*msg, msg->offset() + 1);
    return;
  }
  PendingChange c;
  c.table = &table;
  c.op = ev->op;
  c.version = ev->version;
  c.xid = ev->xid;
  c.key_only = ev->kind == kafka::ChangeEvent::Kind::KeyOnly;
  try {
    // A delete's row is its `before` image; every other event (key-only ones included) has `after`.
    const bool removed = !c.key_only && c.op == 'd';
    const bool whole_row = !c.key_only && !removed;
    // An event from before the table's columns last changed in place has their older shape.
    const auto& state = states_.at(table);
    const kafka::OlderShape older{&state.renamed_columns, &state.missing_values,
                                  state.evolved_at != kInvalidLsn && c.version < state.evolved_at};
    c.row = kafka::row_from_json(table, removed ? *ev->before : *ev->after,
                                 whole_row ? kafka::RowPart::Full : kafka::RowPart::KeyOnly, older);
  } catch (const Error& e) {
    reject_on_arrival(*msg, e.one_line());
    return;
  }
  note_offset(*msg, msg->offset() + 1);
  c.message = std::move(msg);
  segment_.push_back(std::move(c));
}

void TopicConsumer::handle_truncate(const pipeline::TableSchema& table, const RdKafka::Message& msg) {
  const std::string topic = msg.topic_name();
  const int count = partitions_of(topic);
  int mine = 0;
  for (const auto& tp : assigned_) mine += tp.first == topic ? 1 : 0;
  if (mine < count) {
    throw Error(ErrorKind::Config,
                fmt::format("a TRUNCATE of {} arrived on {}, but this consumer reads {} of the topic's {} partitions",
                            table.qualified_source(), where(msg), mine, count),
                "a truncate must be applied by the one consumer that reads every partition of its topic: run one "
                "consumer per topic in this group (see docs/kafka.md)");
  }
  // Changes read before the truncate are applied before it; the partition waits at its copy.
  apply_segment();
  if (is_stopped(table)) {  // by a change just applied
    skip_stopped(table, msg);
    note_offset(msg, msg.offset() + 1);
    return;
  }
  segment_offsets_[{topic, msg.partition()}] = msg.offset();
  consumer_->pause(topic, msg.partition());
  if (!barrier_.arrive(topic, table.qualified_source(), msg.partition(), msg.offset(), count)) return;

  const auto arrivals = barrier_.release(topic, table.qualified_source());
  sink_.begin_transaction();
  sink_.truncate(table);
  ++stats_.truncates;
  std::map<TopicPartition, std::int64_t> after;
  for (const auto& a : arrivals) after[{topic, a.partition}] = a.offset + 1;
  sink_.commit_transaction(++segment_seq_);
  ledger_.record(segment_seq_, after);
  for (const auto& a : arrivals) {
    consumer_->resume(topic, a.partition, a.offset + 1);
    sought_.insert({topic, a.partition});
    positions_[{topic, a.partition}] = a.offset + 1;
  }
  segment_offsets_.clear();
}

void TopicConsumer::apply_segment() {
  if (segment_.empty() && segment_offsets_.empty()) return;
  // Key-only events: the current rows of every key of a table in one query. Only the last event
  // of a key matters (the fetched row is the key's current state either way).
  std::unordered_map<const pipeline::TableSchema*, std::vector<std::size_t>> key_events;
  {
    std::unordered_set<std::string> seen;
    for (std::size_t i = segment_.size(); i-- > 0;) {
      auto& c = segment_[i];
      if (!c.key_only || is_stopped(*c.table)) continue;
      if (!seen.insert(key_identity(*c.table, c.row)).second) {
        c.superseded = true;
        continue;
      }
      key_events[c.table].push_back(i);
    }
  }
  std::vector<const pipeline::OwnedRow*> fetched(segment_.size(), nullptr);
  std::vector<std::vector<pipeline::OwnedRow>> results;
  results.reserve(key_events.size());
  for (auto& [table, indexes] : key_events) {
    std::vector<pipeline::OwnedRow> keys;
    keys.reserve(indexes.size());
    // The rows are written under the events' versions, so they must be at least as new as the
    // events: a commit is decoded (and its events published) before new snapshots see it, and
    // a row read in between is the state BEFORE it, which nothing would correct later. The
    // fetch waits until every event's transaction is visible. (An event without __xid, from an
    // older producer, is answered as before, with that gap.) Superseded events need no check:
    // an earlier change of the same key was visible before the later one could lock the row.
    std::vector<std::uint64_t> xids;
    for (auto i : indexes) {
      keys.push_back(segment_[i].row);
      if (segment_[i].xid) xids.push_back(*segment_[i].xid);
    }
    std::sort(xids.begin(), xids.end());
    xids.erase(std::unique(xids.begin(), xids.end()), xids.end());
    auto rows = fetch_current(*table, keys, xids);
    ++stats_.key_fetches;
    if (!rows) continue;  // the table stopped
    results.push_back(std::move(*rows));
    for (std::size_t k = 0; k < indexes.size(); ++k) fetched[indexes[k]] = &results.back()[k];
  }
  // After the fetches: one may follow a change of its table's columns, which flushes the sink.
  sink_.begin_transaction();
  const std::uint64_t seq = segment_seq_ + 1;
  for (std::size_t i = 0; i < segment_.size(); ++i) {
    auto& c = segment_[i];
    // Also a table stopped by an earlier change of this segment.
    if (is_stopped(*c.table)) {
      skip_stopped(*c.table, *c.message);
      continue;
    }
    undurable_.applied(c.table, seq, {c.message->topic_name(), c.message->partition()}, c.message->offset());
    if (!c.superseded) apply(c, fetched[i]);
  }
  // Offsets past a dead-lettered message are committed only once the dead-letter topic has it.
  if (dead_lettered_in_segment_) dead_letters_->wait_delivered();
  dead_lettered_in_segment_ = false;
  sink_.commit_transaction(++segment_seq_);
  ledger_.record(segment_seq_, std::move(segment_offsets_));
  segment_offsets_.clear();
  segment_.clear();
}

std::optional<std::vector<pipeline::OwnedRow>> TopicConsumer::fetch_current(const pipeline::TableSchema& table,
                                                                           const std::vector<pipeline::OwnedRow>& keys,
                                                                           std::span<const std::uint64_t> xids) {
  // The rows are read as they are now, so in the table's newest shape: its columns may have
  // changed since its events were read (the fetch fails, a column comes back retyped or NULL
  // where the schema says NOT NULL). Then the change is followed and the rows fetched again.
  const auto null_in_not_null = [&](const std::vector<pipeline::OwnedRow>& rows) {
    for (const auto& row : rows) {
      for (std::size_t i = 0; i < row.values.size(); ++i) {
        const auto& c = table.source_columns[i];
        if (c.not_null && c.target_index >= 0 && row.values[i].kind == pipeline::ValueRef::Kind::Null) return true;
      }
    }
    return false;
  };
  for (bool again = false;; again = true) {
    std::optional<Error> failed;
    std::vector<pipeline::OwnedRow> rows;
    try {
      rows = fetcher_.fetch(table, keys, xids);
      if (!columns_ || again || !null_in_not_null(rows)) return rows;
    } catch (const Error& e) {
      if (!columns_ || again || e.retriable()) throw;
      failed = e;
    }
    if (!columns_->differs(table)) {
      if (failed) throw *failed;
      return rows;  // the sink refuses the NULL (the table stops)
    }
    // Rows of the table decoded from whole events of this segment hold its older shape: they
    // cannot be written after the change, nor before the rows fetched now.
    const bool whole_rows = std::any_of(segment_.begin(), segment_.end(),
                                        [&](const PendingChange& c) { return c.table == &table && !c.key_only; });
    auto why_not = whole_rows ? std::optional<std::string>("whole events of its older shape wait in the same batch")
                              : columns_->follow(table);
    if (!why_not) continue;
    stop_with_undurable(table,
                        fmt::format("its columns changed at the source while its rows were fetched, not followed in "
                                    "place: {}",
                                    *why_not),
                        kColumnsNotFollowedFix);
    return std::nullopt;
  }
}

void TopicConsumer::apply(PendingChange& c, const pipeline::OwnedRow* fetched) {
  const pipeline::TableSchema& t = *c.table;
  try {
    if (c.key_only) {
      // The row as it is now; a key that no longer exists was deleted.
      if (fetched->values.empty()) {
        const auto key = c.row.refs();
        sink_.remove(t, key, c.version);
      } else {
        const auto row = fetched->refs();
        sink_.insert(t, row, c.version);
      }
    } else {
      // Debezium's unchanged-TOAST placeholders are filled by the sink from the source, with a
      // snapshot that must see this event's transaction (ClickHouseChangeSink).
      pipeline::TransactionContext tx;
      if (c.xid) tx.xid = static_cast<std::uint32_t>(*c.xid);  // the fetch widens it again
      sink_.transaction_context(tx);
      const auto row = c.row.refs();
      if (c.op == 'd') {
        sink_.remove(t, row, c.version);
      } else if (c.op == 'u' || pipeline::has_unchanged_toast(row)) {
        sink_.update(t, {}, row, c.version);
      } else {
        sink_.insert(t, row, c.version);
      }
    }
    ++stats_.changes;
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Data) throw;
    if (!dead_letters_) {
      stop_table(c, e);
      return;
    }
    reject(*c.message, e.one_line());
  }
}

void TopicConsumer::skip_stopped(const pipeline::TableSchema& table, const RdKafka::Message& msg) {
  ++stats_.skipped;
  if (states_.skipped(table, {msg.topic_name(), msg.partition()}, msg.offset())) {
    spdlog::info("table {} is stopped: its messages on {}[{}] are skipped from offset {}", table.qualified_source(),
                 msg.topic_name(), msg.partition(), msg.offset());
  }
}

void TopicConsumer::stop_table(const PendingChange& c, const Error& error) {
  const pipeline::TableSchema& table = *c.table;
  const RdKafka::Message& msg = *c.message;
  const auto row = c.row.refs();
  std::string reason =
      fmt::format("{} (key {}) in Kafka message {}", error.what(), pipeline::key_text(table, row), where(msg));
  std::string fix = error.hint().empty() ? std::string("map the column so ClickHouse can hold the value, or exclude it")
                                         : error.hint();
  // No copy here to re-create the target with: its column must change with the config.
  fix += ", and change the ClickHouse column to match (a start that finds the target differing names the ALTER TABLE "
         "to run); then restart pg2ch: a table whose config entry changed reads its skipped messages again "
         "from the offsets it recorded";
  stop_with_undurable(table, std::move(reason), std::move(fix));
}

void TopicConsumer::stop_with_undurable(const pipeline::TableSchema& table, std::string reason, std::string fix) {
  // Everything the sink holds for the table goes with it, not only the message at hand: its first
  // skipped offsets are those of its messages not durable yet.
  const PartitionOffsets skipped = undurable_.earliest(&table);
  spdlog::error("table {} stopped: {} (fix: {}); skipping its messages from {}, the other tables go on",
                table.qualified_source(), reason, fix, table_sync::format_partition_offsets(skipped));
  states_.stop(table, std::move(reason), std::move(fix), skipped);  // durable before any commit past it
  sink_.discard(table);
  after_stop(table);
}

bool TopicConsumer::stop_refused(const pipeline::TableSchema& table, const Error& error) {
  if (!table_sync::stops_only_its_table(error) || !tables_.contains({table.source_schema, table.source_name})) {
    return false;
  }
  auto why = table_sync::refused_insert(
      table, error,
      "restart pg2ch: it reads the table's skipped messages again from the offsets it recorded");
  // The refused batch held its messages not durable yet: they are its first skipped ones.
  const PartitionOffsets skipped = undurable_.earliest(&table);
  spdlog::error("table {} stopped: {} (fix: {}); skipping its messages from {}, the other tables go on",
                table.qualified_source(), why.reason, why.fix, table_sync::format_partition_offsets(skipped));
  states_.stop(table, std::move(why.reason), std::move(why.fix), skipped);  // before any commit past them
  after_stop(table);
  return true;
}

void TopicConsumer::after_stop(const pipeline::TableSchema& table) {
  undurable_.forget(&table);
  catching_up_.erase(&table);
  // Partitions waiting at a truncate of it read the truncate again, and skip it.
  for (const auto& topic : topics_) {
    for (const auto& a : barrier_.release(topic, table.qualified_source())) {
      consumer_->resume(topic, a.partition, a.offset);
      sought_.insert({topic, a.partition});
      positions_[{topic, a.partition}] = a.offset;
    }
  }
}

void TopicConsumer::reject_on_arrival(const RdKafka::Message& msg, const std::string& reason) {
  if (!dead_letters_) {
    // Stopping here: what was read before the bad message is still written and committed, so
    // the restart begins exactly at it.
    apply_segment();
    sink_.flush();
    commit_durable();
  }
  reject(msg, reason);
  note_offset(msg, msg.offset() + 1);
}

void TopicConsumer::reject(const RdKafka::Message& msg, const std::string& reason) {
  if (!dead_letters_) {
    throw Error(ErrorKind::Data, fmt::format("Kafka message {}: {}", where(msg), reason),
                "fix the producer, or set kafka.dead_letter_topic to move such messages aside and go on; the "
                "consumer resumes at this message after a restart");
  }
  dead_letters_->send(msg, reason);
  dead_lettered_in_segment_ = true;
  ++stats_.dead_lettered;
}

void TopicConsumer::commit_replay_starts() {
  // Before the partitions can change hands: their next owner must find the replay's start, not
  // the group's old offset (which may lie before what the broker keeps: a gap).
  if (replay_commit_.empty()) return;
  consumer_->commit(replay_commit_);
  replay_commit_.clear();
}

void TopicConsumer::commit_durable() {
  if (const auto durable = sink_.durable_position()) {
    ledger_.durable_up_to(*durable);
    undurable_.durable_up_to(*durable);
  }
  const auto offsets = ledger_.committable();
  if (offsets.empty()) return;
  try {
    consumer_->commit(offsets);
    ledger_.committed(offsets);
    note_committed(offsets);
  } catch (const Error& e) {
    if (!e.retriable()) throw;
    // Brokers away: ClickHouse has the rows; the commit is retried next round (a crash before it
    // only means those messages are read and written again, which _version makes harmless).
    spdlog::warn("kafka consumer: {}; retrying", e.one_line());
  }
}

}  // namespace pg2ch::capture::kafka_consumer
