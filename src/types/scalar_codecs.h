#pragma once
// Fixed-width values whose PostgreSQL and ClickHouse representations differ only in byte order
// (integers, floats, time, money), plus bool and uuid. No allocation, one length check each.
#include <cstddef>
#include <memory>
#include <string_view>

#include "types/value_codec.h"

namespace pg2ch::types {

// `width` is 2, 4 or 8; `pg_type` (a string literal) names the type in ProtocolError messages.
// Floats go through here too: reversing the bytes keeps NaN payloads, -0 and infinities exact.
std::unique_ptr<ValueCodec> make_byteswap_codec(std::size_t width, std::string_view pg_type);
// bool → one byte 0/1 (ClickHouse Bool and UInt8 share the encoding).
std::unique_ptr<ValueCodec> make_bool_codec();
std::unique_ptr<ValueCodec> make_uuid_codec();

}  // namespace pg2ch::types
