#pragma once
// The numeric_send format and numeric typmods. A numeric is base-10000 digits (int16 each) with
// the weight (base-10000 exponent) of the first digit, a sign word and the display scale:
//   int16 ndigits, int16 weight, uint16 sign, uint16 dscale, ndigits × int16 digit.
#include <cstdint>
#include <optional>
#include <string_view>

#include "types/pg_binary.h"

namespace pg2ch::types {

struct NumericValue {
  enum class Kind { Finite, NaN, PosInfinity, NegInfinity };
  Kind kind = Kind::Finite;
  bool negative = false;
  // After leading zero digits are skipped, so digit(0) != 0 whenever ndigits > 0; ndigits == 0
  // means zero.
  int weight = 0;
  int dscale = 0;
  int ndigits = 0;
  const char* digits = nullptr;  // big-endian int16 each, validated < 10000

  std::uint32_t digit(int i) const noexcept { return pgbin::load_be<std::uint16_t>(digits + 2 * i); }
};

// Validates length, sign word, dscale and every digit; throws ProtocolError otherwise.
NumericValue parse_numeric(std::string_view bytes);

// Number of decimal digits in a base-10000 digit 1..9999.
inline int decimal_digits(std::uint32_t d) noexcept { return d >= 1000 ? 4 : d >= 100 ? 3 : d >= 10 ? 2 : 1; }

inline constexpr std::uint32_t kPow10[5] = {1, 10, 100, 1000, 10000};

struct NumericTypmod {
  int precision = 0;
  int scale = 0;  // may be negative or larger than precision (PostgreSQL 15+)
};

// numeric(p,s) from atttypmod; nullopt for an unconstrained numeric (typmod -1).
std::optional<NumericTypmod> decode_numeric_typmod(std::int32_t typmod);

}  // namespace pg2ch::types
