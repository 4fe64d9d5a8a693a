#pragma once
// Big-endian appender to a std::string: the encoding half of wire_reader.h. Used by the standby
// status update (hot path, once per status interval) and by the test/replay encoders.
#include <cstdint>
#include <string>
#include <string_view>

#include "pg/wire_reader.h"

namespace pg2ch::pg {

class WireWriter {
 public:
  explicit WireWriter(std::string& out) noexcept : out_(out) {}

  WireWriter& u8(std::uint8_t v) { return fixed(v); }
  WireWriter& ch(char c) {
    out_.push_back(c);
    return *this;
  }
  WireWriter& i16(std::int16_t v) { return fixed(v); }
  WireWriter& i32(std::int32_t v) { return fixed(v); }
  WireWriter& u32(std::uint32_t v) { return fixed(v); }
  WireWriter& i64(std::int64_t v) { return fixed(v); }
  WireWriter& u64(std::uint64_t v) { return fixed(v); }

  // Writes s followed by a NUL. An embedded NUL would make the reader stop early, so callers
  // must not pass one (names and prefixes from the catalog cannot contain NUL).
  WireWriter& cstring(std::string_view s) {
    out_.append(s);
    out_.push_back('\0');
    return *this;
  }
  WireWriter& bytes(std::string_view s) {
    out_.append(s);
    return *this;
  }

 private:
  template <class T>
  WireWriter& fixed(T v) {
    const T be = wire::byteswap_if_little(v);
    out_.append(reinterpret_cast<const char*>(&be), sizeof(T));
    return *this;
  }

  std::string& out_;
};

}  // namespace pg2ch::pg
