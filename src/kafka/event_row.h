#pragma once
// The row of a decoded ChangeEvent as PostgreSQL binary values of a known table, so the consumer
// hands Kafka changes to the same ChangeSink (and codecs) as every capture mode.
//
// Errors are Error(Data) naming the table and column and what the message held.
#include <rapidjson/document.h>

#include <string>
#include <utility>
#include <vector>

#include "pipeline/owned_row.h"
#include "pipeline/table_schema.h"

namespace pg2ch::kafka {

enum class RowPart {
  Full,     // every replicated column must be present (null allowed for nullable columns)
  KeyOnly,  // only the key columns are read (deletes, key-only events); the rest is NULL
};

// An event written before the table's columns last changed in place (the consumer followed the
// change: capture/kafka_consumer/column_follower.h) names and holds the columns as they were.
// From the table's state (table_sync/table_state.h).
struct OlderShape {
  // (old name, new name) in the order the renames happened: a column is found by an old name.
  const std::vector<std::pair<std::string, std::string>>* renamed = nullptr;
  // (name, PostgreSQL binary) of columns added with a fast default: what a row that existed before
  // holds in them at the source.
  const std::vector<std::pair<std::string, std::string>>* missing = nullptr;
  // The event is from before the latest change (its version is below the state's evolved_at):
  // a non-key column it lacks was added since, and reads its missing value, or NULL.
  bool may_lack_columns = false;
};

// Values in source column order (TableSchema::source_columns); excluded columns are NULL.
// Debezium's "__debezium_unavailable_value" in a non-key column becomes an unchanged-TOAST value,
// which the sink fills from the source's current row. Fields the table no longer has (columns
// dropped) are not read.
pipeline::OwnedRow row_from_json(const pipeline::TableSchema& table, const rapidjson::Value& object, RowPart part,
                                 const OlderShape& older = {});

}  // namespace pg2ch::kafka
