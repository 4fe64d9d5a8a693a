#pragma once
// ClickHouse RowBinary encoder: little-endian fixed-width numbers, LEB128 length-prefixed
// strings, a 1-byte null flag before Nullable values, LEB128 element count before arrays.
// See https://clickhouse.com/docs/en/interfaces/formats#rowbinary
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "common/byte_buffer.h"

static_assert(std::endian::native == std::endian::little, "RowBinary writer assumes a little-endian host");

namespace pg2ch::clickhouse {

class RowBinaryWriter {
 public:
  explicit RowBinaryWriter(ByteBuffer& out) : out_(out) {}

  template <typename T>
  void fixed(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::memcpy(out_.tail(sizeof(T)), &value, sizeof(T));
    out_.commit(sizeof(T));
  }
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void varint(std::uint64_t v) {
    char* p = out_.tail(10);
    std::size_t n = 0;
    while (v >= 0x80) {
      p[n++] = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    p[n++] = static_cast<char>(v);
    out_.commit(n);
  }
  void string(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  void raw(const void* data, std::size_t n) { out_.append(data, n); }
  // Nullable(T) prefix: call null_flag(true) and write nothing else, or null_flag(false) then T.
  void null_flag(bool is_null) { u8(is_null ? 1 : 0); }

  // ClickHouse UUID: two little-endian UInt64 halves; PostgreSQL sends 16 bytes in RFC order.
  void uuid_from_rfc_bytes(const unsigned char* b) {
    char* p = out_.tail(16);
    for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(b[7 - i]);
    for (int i = 0; i < 8; ++i) p[8 + i] = static_cast<char>(b[15 - i]);
    out_.commit(16);
  }

  ByteBuffer& buffer() { return out_; }

 private:
  ByteBuffer& out_;
};

}  // namespace pg2ch::clickhouse
