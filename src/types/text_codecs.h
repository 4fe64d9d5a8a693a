#pragma once
// Values whose binary form is already the bytes ClickHouse should store in a String: text,
// varchar, bpchar, name, json, xml, bytea, enum labels; plus the two that need a small fixup
// (jsonb's version byte, "char"'s NUL meaning empty).
#include <memory>

#include "types/value_codec.h"

namespace pg2ch::types {

// Bytes as-is. bpchar keeps its blank padding, exactly as PostgreSQL stores it.
std::unique_ptr<ValueCodec> make_string_codec();
// jsonb_send: version byte 1, then the JSON text.
std::unique_ptr<ValueCodec> make_jsonb_codec();
// "char": always one byte; NUL is how PostgreSQL stores '' and prints as the empty string.
std::unique_ptr<ValueCodec> make_char_codec();

}  // namespace pg2ch::types
