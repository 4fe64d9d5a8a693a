#pragma once
// The consumer side of the Kafka route (mode = "kafka"): reads change events from the topics a
// producing pipeline (sink = "kafka") wrote, and writes them to ClickHouse through the same
// ChangeSink as every capture mode.
//
// Flow: messages are gathered into a segment (whatever librdkafka has ready, up to
// kMaxSegmentMessages) → each is decoded and resolved to its table at once (one that cannot be
// decoded goes to the dead-letter topic or stops the consumer) → the segment is applied in
// message order as one sink transaction, key-only events with ONE current-row query per table
// → the segment's next offsets are committed once the sink reports that transaction durable
// (OffsetLedger). Rebalances and shutdown apply, flush and commit first. Truncates wait for
// every partition (TruncateBarrier).
//
// Tables have states (capture/table_sync): streaming while consumed; a value the target cannot
// hold goes to the dead-letter topic, or without one stops its table only (stopped, its
// messages skipped from then on, the others applied and committed); a changed config entry
// brings it back at the next start by reading its skipped messages again (table_offsets.h).
// ClickHouse refusing a batch of one table's rows (its target changed by hand) stops that table
// the same way; such a stop is tried again at every start (the mended target takes the rows read
// again, an unmended one stops the table again).
//
// Errors: exceptions (pg2ch::Error) with topic, partition and offset; retriable commit failures
// (brokers away) are retried on the next round instead. A committed offset the broker no longer
// has (retention deleted unread messages) stops the consumer with the lost range
// (kafka/offset_gap.h); it never skips them.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "capture/change_source.h"
#include "capture/kafka_consumer/column_follower.h"
#include "capture/kafka_consumer/offset_ledger.h"
#include "capture/kafka_consumer/replay_start.h"
#include "capture/kafka_consumer/table_offsets.h"
#include "capture/kafka_consumer/truncate_barrier.h"
#include "capture/table_sync/table_states.h"
#include "common/error.h"
#include "config/config.h"
#include "kafka/consumer.h"
#include "kafka/dead_letter_queue.h"
#include "pipeline/change_sink.h"
#include "pipeline/owned_row.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::kafka_consumer {

struct ConsumerStats {
  std::uint64_t messages = 0;       // read from Kafka
  std::uint64_t changes = 0;        // applied to the sink
  std::uint64_t key_fetches = 0;    // current-row queries for key-only events
  std::uint64_t truncates = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t skipped = 0;        // tombstones, events of tables not in this config or stopped
};

// The start of the stop reason of a table whose target was dropped and created again empty
// (kafka_consumer_pipeline.cpp): it stays stopped until a replay.
inline constexpr std::string_view kLostTarget = "its ClickHouse target was missing";

class TopicConsumer final : private kafka::RebalanceHandler {
 public:
  static constexpr std::size_t kMaxSegmentMessages = 20000;

  // `tables` are the configured tables (their events are applied; others skipped), `states`
  // theirs; `fetcher` answers key-only events. All must outlive the consumer.
  TopicConsumer(const config::Config& cfg, std::vector<const pipeline::TableSchema*> tables,
                table_sync::TableStates& states, pipeline::ChangeSink& sink, pipeline::CurrentRowFetcher& fetcher,
                std::optional<ReplayStart> replay = std::nullopt);
  ~TopicConsumer() override;

  // The topics this config reads: one per table, or kafka.topic.
  static std::vector<std::string> topics_for(const config::Config& cfg,
                                             const std::vector<const pipeline::TableSchema*>& tables);

  // Settles the tables' states (streaming; a stopped table whose config changed catching_up,
  // table_offsets.h). With stop_when_caught_up, turn() reports CaughtUp once every message that
  // was in the topics now is durable in ClickHouse and committed. The `unfit` tables' targets do
  // not fit their columns (start_columns.h): they stay stopped, even for a replay.
  void start(bool stop_when_caught_up, const std::set<const pipeline::TableSchema*>& unfit = {});
  // Follows changes of the tables' columns at the source (column_follower.h); without one a
  // change is not noticed. Must outlive the consumer.
  void follow_columns(ColumnFollower& columns) { columns_ = &columns; }
  // Reads what librdkafka has ready (waiting at most `max_wait` for the first message), applies
  // it as one segment, commits what the sink made durable.
  capture::Turn turn(std::chrono::milliseconds max_wait);
  // Applies and flushes what was read, commits it, leaves the group.
  void finish();
  const ConsumerStats& stats() const { return stats_; }
  // Messages in the assigned partitions not yet read (from librdkafka's cached high watermarks);
  // nullopt while nothing is assigned or fetched.
  std::optional<std::int64_t> pending_messages();

 private:
  using TopicPartition = OffsetLedger::TopicPartition;
  struct PendingChange {
    const pipeline::TableSchema* table = nullptr;
    char op = 0;
    bool key_only = false;
    std::uint64_t version = 0;
    bool superseded = false;                     // a later key-only event of its key in the segment
    std::optional<std::uint64_t> xid;            // the source transaction, when the event says
    pipeline::OwnedRow row;                      // full row, or key values only
    std::unique_ptr<RdKafka::Message> message;   // kept for the dead-letter topic
  };

  void on_assign(std::vector<kafka::PartitionOffset>& partitions) override;
  void on_revoke(const std::vector<kafka::PartitionOffset>& partitions) override;

  // Handles the messages read so far (read_), each table's columns looked at once first.
  void handle_read();
  void handle(std::unique_ptr<RdKafka::Message> msg);
  // False when `table` stopped because its columns changed in a way it cannot follow; else its
  // schema and target describe the source's columns (looked at once per handle_read()).
  bool columns_followed(const pipeline::TableSchema& table);
  void handle_truncate(const pipeline::TableSchema& table, const RdKafka::Message& msg);
  void apply_segment();
  void apply(PendingChange& c, const pipeline::OwnedRow* fetched);
  // The current rows of `keys` for key-only events, following a change of the table's columns
  // made since its events were read; nullopt when the table stopped for it.
  std::optional<std::vector<pipeline::OwnedRow>> fetch_current(const pipeline::TableSchema& table,
                                                                const std::vector<pipeline::OwnedRow>& keys,
                                                                std::span<const std::uint64_t> xids);
  // Dead-letters `msg`, or throws when no dead-letter topic is configured.
  void reject(const RdKafka::Message& msg, const std::string& reason);
  // The same for a message that failed before joining the segment (after the segment is
  // written, when stopping).
  void reject_on_arrival(const RdKafka::Message& msg, const std::string& reason);
  void note_offset(const RdKafka::Message& msg, std::int64_t next);
  bool is_stopped(const pipeline::TableSchema& table) const {
    return states_.phase(table) == table_sync::TablePhase::Stopped;
  }
  // A message of a stopped table: its offset is recorded if it is the first skipped on its
  // partition, before anything past it can be committed.
  void skip_stopped(const pipeline::TableSchema& table, const RdKafka::Message& msg);
  // The table of `c` cannot hold its value (no dead-letter topic): stops that table only.
  void stop_table(const PendingChange& c, const Error& error);
  // Stops `table` only, its messages not durable yet discarded and recorded as its first skipped.
  void stop_with_undurable(const pipeline::TableSchema& table, std::string reason, std::string fix);
  // ClickHouse refused a batch of `table`'s rows (pipeline::RefusalHandler, inside a sink flush
  // that drops the batch itself): stops that table only; it comes back at the next start, which
  // reads its skipped messages again. False: not one of ours, or not its trouble alone.
  bool stop_refused(const pipeline::TableSchema& table, const Error& error);
  // What every stop does after recording it: forgets the table's undurable offsets, its catching
  // up and its truncate barriers.
  void after_stop(const pipeline::TableSchema& table);
  // Tables caught up once the group committed `offsets` (table_offsets.h).
  void note_committed(const std::vector<kafka::PartitionOffset>& offsets);
  void caught_up_tables();
  std::optional<std::int64_t> replay_until(const TopicPartition& tp) const;
  void commit_durable();
  // Commits the replay's start offsets (once, after the assignment that chose them).
  void commit_replay_starts();
  bool caught_up() const;
  void record_targets();
  int partitions_of(const std::string& topic);

  const config::Config& cfg_;
  std::map<std::pair<std::string, std::string>, const pipeline::TableSchema*> tables_;
  std::vector<std::string> topics_;
  table_sync::TableStates& states_;
  pipeline::ChangeSink& sink_;
  pipeline::CurrentRowFetcher& fetcher_;
  std::optional<ReplayStart> replay_;
  std::unique_ptr<kafka::DeadLetterQueue> dead_letters_;
  std::unique_ptr<kafka::Consumer> consumer_;

  ColumnFollower* columns_ = nullptr;
  std::vector<std::unique_ptr<RdKafka::Message>> read_;  // read, not yet handled
  std::set<const pipeline::TableSchema*> looked_;       // columns looked at for read_
  std::set<TopicPartition> sought_;                     // partitions resumed elsewhere while handling read_
  std::vector<PendingChange> segment_;
  std::map<TopicPartition, std::int64_t> segment_offsets_;
  bool dead_lettered_in_segment_ = false;
  std::uint64_t segment_seq_ = 0;
  OffsetLedger ledger_;
  TruncateBarrier barrier_;
  UndurableOffsets undurable_;
  // Catching-up tables: their recorded partitions not yet read again past replay_until.
  std::map<const pipeline::TableSchema*, std::set<TopicPartition>> catching_up_;

  std::set<TopicPartition> assigned_;
  std::set<TopicPartition> replayed_;                  // replay start applied (once per partition)
  std::vector<kafka::PartitionOffset> replay_commit_;  // replay starts to commit after assignment
  std::map<TopicPartition, std::int64_t> positions_;   // next offset to read, per assigned partition
  std::map<TopicPartition, std::int64_t> targets_;     // high watermarks at start (stop_when_caught_up)
  std::unordered_map<std::string, int> partition_counts_;
  std::set<std::pair<std::string, std::string>> unknown_tables_logged_;
  bool stop_when_caught_up_ = false;
  ConsumerStats stats_;
};

}  // namespace pg2ch::capture::kafka_consumer
