#pragma once
// Which offsets a table stopped in mode = "kafka" skipped, and where it reads again when it
// comes back (capture/table_sync/table_state.h has the states).
//
// A message whose value its table's target cannot hold (ErrorKind::Data from the sink, e.g. NaN
// into a Decimal, a timestamp outside DateTime) stops that table only, when no dead-letter topic
// is configured:
//
// * Stop. The sink drops everything it buffered for the table (ChangeSink::discard): the rows of
//   this segment and of every earlier segment not yet durable. So the table's first skipped
//   offset per partition is not the failing message's but the earliest of its messages whose
//   segment is not durable yet (UndurableOffsets below; conservative: rows a full batch already
//   wrote are counted as skipped too, and written again later at the same version). That is
//   recorded (skipped_from) durably BEFORE the segment is committed to the sink, so no offset
//   past it is committed before the record is; a crash in between reads the message again and
//   stops again. A later message of the stopped table on a partition not yet recorded is
//   recorded the same way when it is skipped (TableStates::skipped). The other tables are
//   applied and their offsets committed as before.
// * Stays stopped. A start whose config entry for the table did not change
//   (TableStates::changed_since_recorded) keeps skipping it; status gives its reason and fix.
// * Comes back. A start whose config entry changed (the operator excluded the column, or mapped
//   it as String) makes it catching_up: replay_until = the group's committed offsets then, and
//   every recorded partition is read again from min(committed, skipped_from) (resume_start). The
//   table applies its messages from its skipped_from on: every message its target lacks, in
//   order, so it ends as if it had never stopped. Messages read again that were applied the
//   first time (other tables', on a topic shared by several tables, kafka.topic, and its own
//   from before it stopped) are NOT applied again (already_applied). Rows alone would be
//   harmless: the targets are ReplacingMergeTree tables keyed by the row's key, where the same
//   row at the same version collapses into one and an older version loses to the newer one. But
//   a TRUNCATE is no versioned row: applying the rows before it again brings back rows it
//   removed, and applying it again on one partition waits at the truncate barrier for partitions
//   that are not read again (and would remove rows they brought after it). Everything below the
//   group's committed offsets was applied, or skipped by a stopped table and recorded, so
//   skipping it again is exact. The table is streaming once the group committed past
//   replay_until on every recorded partition (all it skipped is durable then); a crash before
//   that finds it catching_up and reads from min(committed, skipped_from) again, its
//   replay_until raised to the committed offsets then (what the earlier start applied past the
//   old one was applied too, and must not be applied again either).
// * If the broker no longer has a recorded offset (retention), the offset-gap check stops the
//   consumer with its error (kafka/offset_gap.h): nothing is ever skipped silently. Its recovery
//   ends with `pg2ch replay`: a replay decides where every partition is read from, so a table
//   whose config changed (or that was catching up) streams from the replay's start instead.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "capture/table_sync/table_state.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::kafka_consumer {

using table_sync::PartitionOffsets;
using TopicPartition = std::pair<std::string, int>;

// Per table, the first offset per partition of its messages in each segment the sink has not
// made durable yet.
class UndurableOffsets {
 public:
  void applied(const pipeline::TableSchema* table, std::uint64_t segment, const TopicPartition& tp,
               std::int64_t offset) {
    by_segment_[segment][table].emplace(tp, offset);  // the first one of the segment stays
  }
  void durable_up_to(std::uint64_t segment) {
    by_segment_.erase(by_segment_.begin(), by_segment_.upper_bound(segment));
  }
  // What the sink drops when the table stops now.
  PartitionOffsets earliest(const pipeline::TableSchema* table) const {
    PartitionOffsets out;
    for (const auto& [_, tables] : by_segment_) {
      const auto it = tables.find(table);
      if (it == tables.end()) continue;
      for (const auto& [tp, offset] : it->second) {
        const auto [at, added] = out.emplace(tp, offset);
        if (!added) at->second = std::min(at->second, offset);
      }
    }
    return out;
  }
  void forget(const pipeline::TableSchema* table) {
    for (auto& [_, tables] : by_segment_) tables.erase(table);
  }

 private:
  std::map<std::uint64_t, std::map<const pipeline::TableSchema*, PartitionOffsets>> by_segment_;
};

// Where a resumed table's recorded partition is read from: its first skipped offset, or the
// group's committed offset when that is earlier (a crash committed nothing past it yet).
inline std::int64_t resume_start(std::optional<std::int64_t> committed, std::int64_t skipped_from) {
  return committed ? std::min(*committed, skipped_from) : skipped_from;
}

// A message of a table in state `own` at `offset` of `tp`, read while tables catch up (their
// largest replay_until on `tp` is `replay_until`): true when it was applied the first time it
// was read (its table was not stopped then), so it must not be applied again.
inline bool already_applied(const table_sync::TableState& own, const TopicPartition& tp, std::int64_t offset,
                            std::optional<std::int64_t> replay_until) {
  if (!replay_until || offset >= *replay_until) return false;  // read for the first time
  if (own.phase != table_sync::TablePhase::CatchingUp) return true;
  const auto skipped = own.skipped_from.find(tp);
  return skipped == own.skipped_from.end() || offset < skipped->second;
}

}  // namespace pg2ch::capture::kafka_consumer
