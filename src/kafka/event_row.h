#pragma once
// The row of a decoded ChangeEvent as PostgreSQL binary values of a known table, so the consumer
// hands Kafka changes to the same ChangeSink (and codecs) as every capture mode.
//
// Errors are Error(Data) naming the table and column and what the message held.
#include <rapidjson/document.h>

#include "pipeline/owned_row.h"
#include "pipeline/table_schema.h"

namespace pg2ch::kafka {

enum class RowPart {
  Full,     // every replicated column must be present (null allowed for nullable columns)
  KeyOnly,  // only the key columns are read (deletes, key-only events); the rest is NULL
};

// Values in source column order (TableSchema::source_columns); excluded columns are NULL.
// Debezium's "__debezium_unavailable_value" in a non-key column becomes an unchanged-TOAST value,
// which the sink fills from the source's current row.
pipeline::OwnedRow row_from_json(const pipeline::TableSchema& table, const rapidjson::Value& object, RowPart part);

}  // namespace pg2ch::kafka
