#pragma once
// The bytes of one Kafka message: key and value JSON for a change.
//
// Key: the row's primary key (replica identity) columns as a JSON object, {"id":42}. When every
// table shares one topic (kafka.topic) the key also carries
// "__dbz__physicalTableIdentifier": "<prefix>.<schema>.<table>", as Debezium's topic router does,
// so keys of different tables never collide (log compaction, partitioning).
//
// Value, format "debezium": Debezium's change event envelope without schema (JsonConverter with
// schemas.enable=false):
//   {"before":{..}|null, "after":{..}|null,
//    "source":{"version","connector":"postgresql","name","ts_ms","snapshot","db","sequence":null,
//              "schema","table","txId","lsn","xmin":null},
//    "op":"c"|"u"|"d"|"r"|"t", "ts_ms", "transaction":null}
// source.lsn is the change's version (its WAL position; 0 for snapshot rows, see
// pipeline::kSnapshotVersion): a consumer keeps, per key, the event with the highest lsn.
//
// Value, format "key" (the seed's key-only event): the key columns plus "__op", "__schema",
// "__table" and "__lsn" (the field names of Debezium's ExtractNewRecordState add.fields), and
// "__xid" when the capture knows the source transaction (logical: pgoutput's 32-bit xid), e.g.
//   {"id":42,"__op":"u","__schema":"public","__table":"orders","__lsn":22817720,"__xid":7781}
// The consumer fetches the current row for the key (or deletes it when it no longer exists),
// with a snapshot that sees transaction __xid: a logical capture publishes a commit as soon as
// it is decoded, which can be before new snapshots see it (docs/kafka.md#key-only-events).
//
// Column values are encoded by write_json_value(). An unchanged TOAST value (pgoutput does not
// resend large values an UPDATE did not touch) is Debezium's placeholder
// "__debezium_unavailable_value".
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pipeline/table_schema.h"
#include "pipeline/value.h"

namespace pg2ch::kafka {

inline constexpr std::string_view kUnavailableValue = "__debezium_unavailable_value";

struct EnvelopeContext {
  std::string connector_name;  // source.name: the pipeline name (Debezium's topic.prefix)
  std::string database;        // source.db
};

// When and where a change happened, for the envelope's time fields.
struct EventTimes {
  std::int64_t ts_ms = 0;                // when pg2ch produced the event (top-level ts_ms)
  std::int64_t source_ts_ms = 0;         // the source transaction's commit time (source.ts_ms)
  std::optional<std::uint32_t> tx_id;    // source.txId; null when the capture does not know it
  // Only the production time known (snapshot rows, captures without commit times).
  EventTimes(std::int64_t now_ms) : ts_ms(now_ms), source_ts_ms(now_ms) {}  // NOLINT(google-explicit-constructor)
  EventTimes(std::int64_t now_ms, std::int64_t commit_ms, std::optional<std::uint32_t> xid)
      : ts_ms(now_ms), source_ts_ms(commit_ms), tx_id(xid) {}
};

// {"id":42}; `table_identifier` non-empty adds "__dbz__physicalTableIdentifier".
std::string message_key(const pipeline::TableSchema& table, std::span<const pipeline::ValueRef> row,
                        std::string_view table_identifier);

// `op` is 'c', 'u', 'd' or 'r'. An empty span is null (before of an insert, after of a delete).
std::string debezium_value(const EnvelopeContext& ctx, const pipeline::TableSchema& table, char op,
                           std::span<const pipeline::ValueRef> before, std::span<const pipeline::ValueRef> after,
                           std::uint64_t version, const EventTimes& times);
// op "t": before and after null; source.lsn null (the seam gives truncates no position).
std::string debezium_truncate(const EnvelopeContext& ctx, const pipeline::TableSchema& table, const EventTimes& times);

// `row` holds the key values (either image of the row). op 't' writes no key columns; `xid`
// nullopt writes no "__xid".
std::string key_event(const pipeline::TableSchema& table, char op, std::span<const pipeline::ValueRef> row,
                      std::uint64_t version, std::optional<std::uint32_t> xid = std::nullopt);

}  // namespace pg2ch::kafka
