#pragma once
// Whether a consumer group can go on from its committed offset, or the broker no longer has what
// lies between (issue 13 item 0: a silent jump past deleted messages left ClickHouse wrong).
//
// Kafka deletes old messages by retention whether or not a group has read them. A committed
// offset below the partition's first kept offset means messages were deleted unread: the
// changes in them never reach ClickHouse, and neither a restart nor any offset reset can bring
// them back. pg2ch stops then and says which ones; only an operator can repair the tables (see
// docs/kafka.md#lost-messages).
#include <cstdint>
#include <optional>
#include <string>

#include "common/error.h"

namespace pg2ch::kafka {

struct OffsetGap {
  enum class Kind {
    Deleted,     // offsets [from, low) were deleted before the group read them
    PastTheEnd,  // `from` is beyond the partition's end: the topic was re-created (or another cluster)
  };
  Kind kind = Kind::Deleted;
  std::int64_t from = 0;  // the group's next offset to read
  std::int64_t low = 0;   // the first offset the partition keeps
  std::int64_t high = 0;  // the offset its next message will get
};

// `next` is where the group reads next (its committed offset); `low`/`high` the partition's
// watermarks. nullopt when reading can go on from `next`: low <= next <= high (next == high:
// nothing new yet).
std::optional<OffsetGap> find_offset_gap(std::int64_t next, std::int64_t low, std::int64_t high);

// The error that stops the consumer: topic, partition, the lost offsets, the group and how to
// repair. ErrorKind::Schema, not retriable (see the .cpp for why).
Error offset_gap_error(const std::string& topic, int partition, const std::string& group, const OffsetGap& gap);

}  // namespace pg2ch::kafka
