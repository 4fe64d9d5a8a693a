#pragma once
// Bounds-checked big-endian reader over a byte span: the one place where the PostgreSQL wire
// decoders (replication protocol, pgoutput, COPY binary) touch raw bytes.
//
// Design note: every read checks the remaining length first and throws ProtocolError naming the
// byte offset, so a truncated or corrupt message can never read out of bounds. The checks are
// one compare each and the reads are memcpy + byte swap, so the whole reader stays inline; only
// the cold throw path lives in wire_reader.cpp. Strings are returned as views into the span (no
// copies): they are valid as long as the caller keeps the underlying bytes alive.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace pg2ch::pg {

namespace wire {

template <class T>
inline T byteswap_if_little(T v) noexcept {
  if constexpr (std::endian::native == std::endian::big || sizeof(T) == 1) {
    return v;
  } else if constexpr (sizeof(T) == 2) {
    return static_cast<T>(__builtin_bswap16(static_cast<std::uint16_t>(v)));
  } else if constexpr (sizeof(T) == 4) {
    return static_cast<T>(__builtin_bswap32(static_cast<std::uint32_t>(v)));
  } else {
    static_assert(sizeof(T) == 8);
    return static_cast<T>(__builtin_bswap64(static_cast<std::uint64_t>(v)));
  }
}

// Unchecked network-order load; callers have already checked the length.
template <class T>
inline T load_be(const char* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return byteswap_if_little(v);
}

}  // namespace wire

class WireReader {
 public:
  // `what` names the message kind in errors ("pgoutput Insert"); it must outlive the reader
  // (string literals in practice).
  explicit WireReader(std::string_view bytes, const char* what = "message") noexcept
      : data_(bytes.data()), size_(bytes.size()), what_(what) {}

  std::uint8_t u8() { return fixed<std::uint8_t>(); }
  char ch() { return static_cast<char>(fixed<std::uint8_t>()); }
  std::int16_t i16() { return fixed<std::int16_t>(); }
  std::int32_t i32() { return fixed<std::int32_t>(); }
  std::uint32_t u32() { return fixed<std::uint32_t>(); }
  std::int64_t i64() { return fixed<std::int64_t>(); }
  std::uint64_t u64() { return fixed<std::uint64_t>(); }

  // A NUL-terminated string; the view excludes the NUL, the NUL is consumed.
  std::string_view cstring() {
    const std::size_t left = size_ - pos_;
    // memchr on an empty span may get a null pointer, which is UB even with length 0.
    const void* nul = left == 0 ? nullptr : std::memchr(data_ + pos_, '\0', left);
    if (nul == nullptr) unterminated_string();
    const std::size_t len = static_cast<std::size_t>(static_cast<const char*>(nul) - (data_ + pos_));
    std::string_view s(data_ + pos_, len);
    pos_ += len + 1;
    return s;
  }

  std::string_view bytes(std::size_t n) {
    need(n);
    std::string_view s(data_ + pos_, n);
    pos_ += n;
    return s;
  }

  // The wire encodes lengths as signed int32; a negative one is malformed unless the caller
  // handles it (NULL markers) before asking for the bytes.
  std::string_view bytes_i32(std::int32_t n) {
    if (n < 0) negative_length(n);
    return bytes(static_cast<std::size_t>(n));
  }

  void skip(std::size_t n) {
    need(n);
    pos_ += n;
  }

  std::string_view rest() noexcept {
    std::string_view s(data_ + pos_, size_ - pos_);
    pos_ = size_;
    return s;
  }

  std::size_t remaining() const noexcept { return size_ - pos_; }
  std::size_t offset() const noexcept { return pos_; }
  bool at_end() const noexcept { return pos_ == size_; }
  const char* what() const noexcept { return what_; }

  // Trailing bytes after a fixed-layout message mean the sender speaks a different protocol
  // version than we asked for: fail loudly instead of silently dropping fields.
  void expect_end() const {
    if (pos_ != size_) trailing_bytes();
  }

  // Throws ProtocolError "<what>: <message> at offset N" (for checks made by callers).
  [[noreturn]] void fail(std::string_view message) const;

 private:
  template <class T>
  T fixed() {
    need(sizeof(T));
    T v = wire::load_be<T>(data_ + pos_);
    pos_ += sizeof(T);
    return v;
  }

  void need(std::size_t n) const {
    if (size_ - pos_ < n) overrun(n);
  }

  [[noreturn]] void overrun(std::size_t n) const;
  [[noreturn]] void unterminated_string() const;
  [[noreturn]] void negative_length(std::int32_t n) const;
  [[noreturn]] void trailing_bytes() const;

  const char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  const char* what_;
};

}  // namespace pg2ch::pg
