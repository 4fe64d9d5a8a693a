#pragma once
// Converts one PostgreSQL value in *binary* wire format (the format of COPY ... (FORMAT binary)
// and of pgoutput with `binary 'true'`) straight into ClickHouse RowBinary, with no text
// round-trip. Snapshot and streaming share these codecs, so a type behaves identically in both.
//
// Error policy: encode_binary() throws pg2ch::Error(ErrorKind::Data) for a value the target
// cannot hold (numeric NaN into Decimal, a date outside the target range) and ProtocolError for
// malformed bytes; the caller adds table/column context. It never writes a partial value on
// success paths and never substitutes a default for a bad value.
#include <memory>
#include <string>
#include <string_view>

#include "clickhouse/rowbinary_writer.h"
#include "clickhouse/server_capabilities.h"
#include "types/pg_type.h"

namespace pg2ch::types {

class ValueCodec {
 public:
  virtual ~ValueCodec() = default;
  // One non-NULL value (the Nullable flag, if any, is written by the caller).
  virtual void encode_binary(std::string_view pg_binary, clickhouse::RowBinaryWriter& out) const = 0;
  // The zero value of the inner type: used for non-key columns of delete markers.
  virtual void encode_default(clickhouse::RowBinaryWriter& out) const = 0;
};

struct ColumnMapping {
  std::string clickhouse_type;        // full type for DDL, including Nullable(...) when nullable
  bool nullable = false;
  // Set when PostgreSQL allows NULL but ClickHouse cannot wrap the type in Nullable (arrays):
  // `nullable` stays false and the caller writes codec->encode_default() (an empty array) for a
  // NULL. The note says so, because NULL and '{}' then read back the same.
  bool null_as_default = false;
  std::unique_ptr<ValueCodec> codec;  // for the non-NULL inner value
  std::string note;                   // non-empty when a fallback was chosen (shown by `setup`)
};

// Chooses the ClickHouse type and codec for a PostgreSQL column on the given server.
// Throws Error(ErrorKind::Schema) naming table.column and the fix for unsupported types.
ColumnMapping map_column(const PgTypeDesc& type, bool not_null, const clickhouse::ServerCapabilities& caps,
                         std::string_view table, std::string_view column);
// The same with the column's configured type instead (`[[tables]] types`): "String" for numeric
// (the exact decimal text; NaN and Infinity too). Throws Error(Config) for another pairing.
ColumnMapping map_column_as(std::string_view clickhouse_type, const PgTypeDesc& type, bool not_null,
                            std::string_view table, std::string_view column);

}  // namespace pg2ch::types
