#pragma once
// One Kafka message read back as a change: the inverse of envelope.h, for the consumer.
//
// The format is recognised per message, so one consumer reads pg2ch's topics in either format
// and Debezium's own PostgreSQL connector output:
//   Debezium envelope   {"before","after","source":{"schema","table","lsn",..},"op",..}, also
//                       wrapped as {"schema":..,"payload":{..}} (JsonConverter schemas.enable=true)
//   key-only event      {<key columns>..,"__op","__schema","__table","__lsn"[,"__xid"]}
//   tombstone           null value (log compaction marker after a delete): nothing to do
//
// Column values stay JSON here; event_row.h turns them into PostgreSQL binary values once the
// table is known. Malformed messages throw Error(Data) saying what is wrong with them.
#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace pg2ch::kafka {

struct ChangeEvent {
  enum class Kind { Row, KeyOnly, Truncate, Tombstone };
  Kind kind = Kind::Tombstone;
  char op = 0;                 // c u d r t
  std::string schema;          // source table
  std::string table;
  std::uint64_t version = 0;   // source.lsn / __lsn: orders the changes of one key
  // __xid / source.txId: the source transaction, whose changes a current-row fetch must see.
  // Absent in events of older producers and of captures that read committed rows (outbox, poll).
  std::optional<std::uint64_t> xid;
  // Row: `before` / `after` objects (either may be null); KeyOnly: `after` is the whole event
  // (key columns are its members). Pointers into `document`.
  const rapidjson::Value* before = nullptr;
  const rapidjson::Value* after = nullptr;
  rapidjson::Document document;

  // `before`/`after` may point at `document` itself: never moved or copied.
  ChangeEvent() = default;
  ChangeEvent(const ChangeEvent&) = delete;
  ChangeEvent& operator=(const ChangeEvent&) = delete;
};

// `value` nullopt is a tombstone. Throws Error(Data) for anything that is not one of the
// formats above (not JSON, unknown op, missing source table, missing or non-integer version).
std::unique_ptr<ChangeEvent> decode_change_event(std::optional<std::string_view> value);

}  // namespace pg2ch::kafka
