#pragma once
// Append-only byte buffer for building insert bodies. Unlike std::string it never zero-fills on
// growth, and exposes a writable tail so encoders can write fixed-size values without a
// per-byte bounds check.
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace pg2ch {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  explicit ByteBuffer(std::size_t capacity) { reserve(capacity); }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ByteBuffer(ByteBuffer&&) noexcept = default;
  ByteBuffer& operator=(ByteBuffer&&) noexcept = default;

  // Returns a pointer to at least n writable bytes past the end; follow with commit(k <= n).
  char* tail(std::size_t n) {
    if (capacity_ - size_ < n) grow(n);
    return data_.get() + size_;
  }
  void commit(std::size_t n) noexcept { size_ += n; }

  void append(const void* src, std::size_t n) {
    // An empty std::string_view{} has a null data(): memcpy from null is undefined even for 0
    // bytes (UBSan, found by fuzz/value_codec_fuzz via "char" '\0'), and so is memcpy to the
    // null tail(0) of a buffer that has never grown.
    if (n == 0) return;
    std::memcpy(tail(n), src, n);
    size_ += n;
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  void push_back(char c) {
    *tail(1) = c;
    ++size_;
  }

  void reserve(std::size_t capacity) {
    if (capacity > capacity_) grow(capacity - size_);
  }
  void clear() noexcept { size_ = 0; }
  // Drops everything after `size` (used to roll back a partly encoded row).
  void truncate(std::size_t size) noexcept {
    if (size < size_) size_ = size;
  }

  const char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  std::string_view view() const noexcept { return {data_.get(), size_}; }

 private:
  void grow(std::size_t needed) {
    std::size_t cap = capacity_ ? capacity_ * 2 : 4096;
    while (cap - size_ < needed) cap *= 2;
    auto fresh = std::make_unique_for_overwrite<char[]>(cap);
    if (size_) std::memcpy(fresh.get(), data_.get(), size_);
    data_ = std::move(fresh);
    capacity_ = cap;
  }

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace pg2ch
