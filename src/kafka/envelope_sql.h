#pragma once
// ClickHouse SQL that turns one column of a Debezium row image (the JSON object `before` or
// `after`, see json_value.h for the encodings) back into the value pg2ch's own sink writes into
// the target column (types/scalar_mapping.cpp). Used by the Kafka engine recipe
// (kafka_engine_ddl.h).
//
// Two dialects, by server version:
//   VisitParam  (< 21.1, e.g. Debian's 18.16): visitParamExtractRaw / visitParamExtractString on
//               the row object. These search the first `"name":` in the text, which is the key
//               itself: a row image is flat (values are scalars or arrays) and a `"` inside a
//               JSON string is always escaped, so a value can never contain `"name":`.
//   JsonExtract (>= 21.1): JSONExtractRaw / JSONExtractString.
// Every conversion is applied to a text that always parses (a zero text replaces null), because
// old servers evaluate both branches of if(); null then selects NULL (Nullable columns) or the
// zero value (NOT NULL non-key columns of a delete's key-only `before`, as pg2ch's sink does).
#include <string>
#include <string_view>

#include "clickhouse/server_capabilities.h"
#include "pipeline/table_schema.h"

namespace pg2ch::kafka {

enum class EnvelopeSqlDialect { VisitParam, JsonExtract };

EnvelopeSqlDialect envelope_sql_dialect(const clickhouse::ServerCapabilities& caps);

// The expression for `column` read from the row object named `row_alias`. Throws
// Error(Schema) naming table.column and suggesting `exclude` when this server cannot convert
// the column's encoding back.
std::string column_value_sql(const pipeline::TableSchema& table, const pipeline::TargetColumn& column,
                             EnvelopeSqlDialect dialect, std::string_view row_alias);

}  // namespace pg2ch::kafka
