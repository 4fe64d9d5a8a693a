#pragma once
// One PostgreSQL binary value → the JSON Debezium's PostgreSQL connector writes for it (payload
// of JsonConverter with schemas.enable=false) under these connector settings:
//
//   decimal.handling.mode=string        numeric, money → "12.50" (exact text)
//   time.precision.mode=adaptive_time_microseconds
//                                       date → days since 1970-01-01; time → µs since midnight;
//                                       timestamp(0..3) → ms, timestamp / timestamp(4..6) → µs
//                                       since 1970-01-01; timestamptz → "2024-05-01T10:00:00.5Z"
//   binary.handling.mode=base64         bytea → base64 text
//   interval.handling.mode=string       interval → ISO 8601 ("P1Y2M3DT4H5M6.789S")
//   money.fraction.digits=2
//
// docs/kafka.md lists every type. The value bytes are checked like the ClickHouse codecs do:
// malformed input throws ProtocolError, never produces a made-up value.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string_view>

#include "types/pg_type.h"

namespace pg2ch::kafka {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Writes one non-NULL value of `type`. Throws Error(Schema) for a type pg2ch does not replicate.
void write_json_value(const types::PgTypeDesc& type, std::string_view pg_binary, JsonWriter& out);

}  // namespace pg2ch::kafka
