#pragma once
// The inverse of json_value.h: one value of a Debezium-style JSON message (the encoding
// docs/kafka.md "Values" lists) → the PostgreSQL binary value (typsend format) the sink takes.
//
// For every value write_json_value produces, read_json_value gives back the same bytes. The few
// things the JSON cannot carry are listed in the .cpp's header note. Input is checked strictly:
// a value of the wrong JSON kind, out of range for the type, or text the encoder could not have
// written is an error, never rounded, clamped or replaced by a default.
//
// Parse the message with parse_json_exact (json_parse.h): it reads every float's digits to the
// nearest double, which the exact round trip needs.
#include <rapidjson/document.h>

#include <string>

#include "types/pg_type.h"

namespace pg2ch::kafka {

// Appends the PostgreSQL binary encoding of one non-null JSON value of `type` to `out` (JSON null
// is the caller's NULL column; nulls inside arrays are handled here). Throws ProtocolError when
// the JSON does not hold a valid value of the type (the message says what was expected and what
// kind of JSON was found, never the value itself), Error(Schema) for a type with no JSON
// encoding. On error `out` is left as it was.
void read_json_value(const types::PgTypeDesc& type, const rapidjson::Value& json, std::string& out);

}  // namespace pg2ch::kafka
