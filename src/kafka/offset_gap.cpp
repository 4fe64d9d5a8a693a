#include "kafka/offset_gap.h"

#include <fmt/format.h>

namespace pg2ch::kafka {

std::optional<OffsetGap> find_offset_gap(std::int64_t next, std::int64_t low, std::int64_t high) {
  if (next < low) return OffsetGap{OffsetGap::Kind::Deleted, next, low, high};
  if (next > high) return OffsetGap{OffsetGap::Kind::PastTheEnd, next, low, high};
  return std::nullopt;
}

Error offset_gap_error(const std::string& topic, int partition, const std::string& group, const OffsetGap& gap) {
  const std::string kept =
      gap.high > gap.low ? fmt::format("it keeps {}..{}", gap.low, gap.high - 1) : "it keeps none now";
  std::string what;
  if (gap.kind == OffsetGap::Kind::Deleted) {
    what = fmt::format(
        "Kafka messages {}[{}] offsets {}..{} were deleted by the broker (retention) before consumer group {} read "
        "them ({}): the changes they carried are missing from ClickHouse",
        topic, partition, gap.from, gap.low - 1, group, kept);
  } else {
    what = fmt::format(
        "consumer group {} is at offset {} of Kafka partition {}[{}], past its end {} ({}): the topic was deleted and "
        "re-created, or the group belongs to another cluster; the changes in between are unknown to ClickHouse",
        group, gap.from, topic, partition, gap.high, kept);
  }
  // Schema (exit code 5), like an invalidated replication slot (logical_stream.cpp): the change
  // stream lost changes for good. A retry or restart would only find the same gap (or, with an
  // offset reset, skip it silently); what is needed is an operator copying the tables again.
  return Error(ErrorKind::Schema, std::move(what),
               fmt::format("a resync is needed: copy the tables published to {} into it again (`pg2ch resync "
                           "<schema.table>` with the producer's config), empty their ClickHouse targets, then run "
                           "`pg2ch replay --from beginning` with this config; see docs/kafka.md#lost-messages",
                           topic));
}

}  // namespace pg2ch::kafka
