#pragma once
// FNV-1a, 64 bits: a digest that is the same across builds and platforms (std::hash is not), for
// what pg2ch stores or compares across runs (table digests, the outbox row mark). Not for secrets.
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace pg2ch {

class Fnv1a {
 public:
  Fnv1a& add(std::string_view s) {
    for (unsigned char c : s) {
      h_ ^= c;
      h_ *= 0x100000001b3ULL;
    }
    h_ ^= 0xff;  // separator, so ("ab","c") and ("a","bc") differ
    h_ *= 0x100000001b3ULL;
    return *this;
  }
  Fnv1a& add(std::int64_t n) { return add(std::string_view(std::to_string(n))); }
  std::string hex() const { return fmt::format("{:016x}", h_); }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace pg2ch
