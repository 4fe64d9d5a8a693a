#pragma once
// Unsigned accumulators for Decimal128/Decimal256 magnitudes. Only the two operations the
// numeric codec needs: multiply-add by small factors, and two's-complement negation.
#include <cstdint>
#include <cstring>

namespace pg2ch::types {

// __extension__ keeps -Wpedantic quiet about the GCC/Clang 128-bit type.
__extension__ typedef unsigned __int128 uint128;

inline void mul_add(std::uint64_t& acc, std::uint32_t mul, std::uint32_t add) noexcept { acc = acc * mul + add; }
inline void mul_add(uint128& acc, std::uint32_t mul, std::uint32_t add) noexcept { acc = acc * mul + add; }

// 256-bit unsigned integer as four little-endian 64-bit limbs: on a little-endian host its bytes
// are exactly ClickHouse's Decimal256/Int256 RowBinary layout.
struct UInt256 {
  std::uint64_t limb[4] = {0, 0, 0, 0};

  void negate() noexcept {
    // ~x + 1, carrying the +1 up while the lower limbs wrap to zero.
    bool carry = true;
    for (auto& l : limb) {
      l = ~l + (carry ? 1 : 0);
      carry = carry && l == 0;
    }
  }
  bool operator==(const UInt256&) const = default;
};

inline void mul_add(UInt256& acc, std::uint32_t mul, std::uint32_t add) noexcept {
  uint128 carry = add;
  for (auto& l : acc.limb) {
    const uint128 t = static_cast<uint128>(l) * mul + carry;
    l = static_cast<std::uint64_t>(t);
    carry = t >> 64;
  }
}

}  // namespace pg2ch::types
