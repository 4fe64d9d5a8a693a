#pragma once
// How the consumer (mode = "kafka") follows a change of a table's columns at the source while it
// streams (issue 12): ADD COLUMN, DROP COLUMN, RENAME COLUMN, a type widened, DROP NOT NULL.
//
// Where the types come from. The events carry values, not types (pg2ch's Debezium envelope is the
// JSON converter's with schemas.enable=false; key-only events carry the key only): a JSON number
// reads as int4 or int8 alike, and a real → double widening cannot be told from the values at all.
// So the consumer describes its tables from the source's catalog (as every mode does at start) and
// looks at the catalog again, once per table per segment, after the segment's messages were read
// and before any of them is decoded: a message of a new shape was produced after its ALTER had
// committed, so this later read shows the new columns (column_watch.h shape_differs, one cheap
// read). A difference is followed by the same evolver as the other modes
// (logical/schema_evolution.h SchemaEvolver::follow_catalog): the rows of the old shape read
// before are written first, the table's state records the new shape, its ClickHouse target is
// altered (ADD / MODIFY / RENAME COLUMN, a dropped column kept NULL from then on), its schema
// replaced and its view re-created; then the message is decoded with the new columns.
//
// Key-only events are answered with the rows as they are now, which may be of a shape newer than
// the last look: a fetch that fails, returns a retyped column (pg/current_row_fetcher.h refuses to
// hand it out) or a NULL in a NOT NULL column follows the change the same way and fetches again
// (TopicConsumer::fetch_current).
//
// Events of an older shape still to come (the catalog is usually ahead of the topic, and a
// restart reads uncommitted messages again) are decoded by the new schema: a renamed column is
// found by its old name, a dropped column's field is not read, a widened type reads the narrower
// value exactly, and a column added since (the event's version below the state's evolved_at)
// reads its fast default or NULL, which is what that row holds at the source
// (kafka/event_row.h OlderShape).
//
// A change made while the consumer was not running is followed by its start, before any message
// is read (start_columns.h).
//
// A crash between the state's record and the ALTER: the next start alters the target again
// (SchemaEvolver::reapply_all, before the targets are checked), each step idempotent; after the
// ALTER and before the offsets' commit: the messages read again are applied to the altered
// target as above. A change that cannot be followed exactly (a narrowing or other incompatible
// type change, a key column, several kinds of change seen at one look, a name taken again) stops
// that table only, with the reason and the fix; the others go on.
#include <optional>
#include <string>

#include "pipeline/table_schema.h"

namespace pg2ch::capture::kafka_consumer {

class ColumnFollower {
 public:
  virtual ~ColumnFollower() = default;
  // Whether the source's catalog describes other columns for `table` than its schema has.
  virtual bool differs(const pipeline::TableSchema& table) = 0;
  // Brings the table's schema and target in line with the catalog: nullopt once done, else why
  // not (one line).
  virtual std::optional<std::string> follow(const pipeline::TableSchema& table) = 0;
};

}  // namespace pg2ch::capture::kafka_consumer
