#pragma once
// Reading PostgreSQL binary values (the typsend formats): big-endian, and every length is checked
// before a byte is touched, so malformed input becomes a ProtocolError and never an
// out-of-bounds read. The throwing helpers are out of line to keep the inline fast paths small.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "common/error.h"

namespace pg2ch::types::pgbin {

// Throws ProtocolError("malformed <type> value: expected <expected> bytes, got <got>").
[[noreturn]] void throw_bad_length(std::string_view type, std::size_t expected, std::size_t got);
// Throws ProtocolError("malformed <type> value: <problem> at byte <offset>").
[[noreturn]] void throw_malformed(std::string_view type, std::string_view problem, std::size_t offset);

inline std::uint8_t bswap(std::uint8_t v) noexcept { return v; }
inline std::uint16_t bswap(std::uint16_t v) noexcept { return __builtin_bswap16(v); }
inline std::uint32_t bswap(std::uint32_t v) noexcept { return __builtin_bswap32(v); }
inline std::uint64_t bswap(std::uint64_t v) noexcept { return __builtin_bswap64(v); }

// Loads a big-endian integer; the caller has already checked that sizeof(T) bytes exist.
template <typename T>
T load_be(const char* p) noexcept {
  static_assert(std::is_integral_v<T>);
  std::make_unsigned_t<T> u;
  std::memcpy(&u, p, sizeof(u));
  return static_cast<T>(bswap(u));
}

inline void expect_length(std::string_view value, std::size_t n, std::string_view type) {
  if (value.size() != n) [[unlikely]]
    throw_bad_length(type, n, value.size());
}

// Sequential reader for the variable-length formats (numeric, arrays, inet, interval).
class Cursor {
 public:
  Cursor(std::string_view data, std::string_view type) : data_(data), type_(type) {}

  template <typename T>
  T read() {
    need(sizeof(T));
    T v = load_be<T>(data_.data() + pos_);
    pos_ += sizeof(T);
    return v;
  }
  std::string_view take(std::size_t n) {
    need(n);
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  std::size_t offset() const noexcept { return pos_; }
  void expect_end() const {
    if (pos_ != data_.size()) [[unlikely]]
      throw_malformed(type_, "trailing bytes", pos_);
  }
  [[noreturn]] void fail(std::string_view problem) const { throw_malformed(type_, problem, pos_); }

 private:
  void need(std::size_t n) const {
    if (data_.size() - pos_ < n) [[unlikely]]
      throw_malformed(type_, "truncated", pos_);
  }

  std::string_view data_;
  std::string_view type_;
  std::size_t pos_ = 0;
};

}  // namespace pg2ch::types::pgbin
