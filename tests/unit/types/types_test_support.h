#pragma once
// Shared helpers for the types tests: hex in/out, the two server generations, and running a
// codec on PostgreSQL binary bytes. The PostgreSQL hex in the tests comes from a real
// PostgreSQL 15 (`select encode(int4send(...), 'hex')` and friends); the expected RowBinary was
// checked by inserting it into ClickHouse 18.16 and reading it back.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "clickhouse/server_capabilities.h"
#include "common/byte_buffer.h"
#include "common/error.h"
#include "types/pg_type.h"
#include "types/value_codec.h"

namespace pg2ch::types::test {

// Spaces are allowed between bytes for readability.
inline std::string unhex(std::string_view hex) {
  std::string digits;
  for (char c : hex)
    if (c != ' ') digits.push_back(c);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<char>(nibble(digits[i]) << 4 | nibble(digits[i + 1])));
  return out;
}

inline std::string tohex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

// Normalizes hex written with spaces between fields, for readable expectations.
inline std::string hx(std::string_view spaced) { return tohex(unhex(spaced)); }

// RowBinary String: LEB128 length (all test strings are < 128 bytes) + bytes, as hex.
inline std::string rb_string(std::string_view s) {
  EXPECT_LT(s.size(), 128u);
  return tohex(std::string(1, static_cast<char>(s.size())) + std::string(s));
}

inline clickhouse::ServerCapabilities caps_for(std::string_view version) {
  return clickhouse::ServerCapabilities::from_version(clickhouse::parse_server_version(version));
}
inline clickhouse::ServerCapabilities old_caps() { return caps_for("18.16.1"); }     // Debian 12
inline clickhouse::ServerCapabilities modern_caps() { return caps_for("24.3.2.23"); }

inline PgTypeDesc scalar(std::uint32_t oid, std::string name, std::int32_t typmod = -1, char typtype = 'b') {
  PgTypeDesc d;
  d.oid = oid;
  d.name = std::move(name);
  d.typmod = typmod;
  d.typtype = typtype;
  return d;
}

inline PgTypeDesc array_of(std::uint32_t element_oid, std::string name, std::int32_t typmod = -1, int ndims = 1,
                           char element_typtype = 'b') {
  PgTypeDesc d;
  d.oid = 1;  // the array type's own oid is not used by the mapping
  d.name = std::move(name);
  d.typmod = typmod;
  d.element_oid = element_oid;
  d.element_typtype = element_typtype;
  d.array_ndims = ndims;
  return d;
}

inline ColumnMapping map(const PgTypeDesc& d, const clickhouse::ServerCapabilities& caps = modern_caps(),
                         bool not_null = true) {
  return map_column(d, not_null, caps, "public.t", "c");
}

// encode_binary on the PostgreSQL hex; returns the RowBinary as hex.
inline std::string encode(const ColumnMapping& m, std::string_view pg_hex) {
  ByteBuffer buf;
  clickhouse::RowBinaryWriter w(buf);
  m.codec->encode_binary(unhex(pg_hex), w);
  return tohex(buf.view());
}

inline std::string encode_default(const ColumnMapping& m) {
  ByteBuffer buf;
  clickhouse::RowBinaryWriter w(buf);
  m.codec->encode_default(w);
  return tohex(buf.view());
}

// Runs encode() and returns the Error it throws (kind Internal with an empty message if none).
inline Error encode_error(const ColumnMapping& m, std::string_view pg_hex) {
  try {
    encode(m, pg_hex);
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorKind::Internal, "no error thrown");
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace pg2ch::types::test
