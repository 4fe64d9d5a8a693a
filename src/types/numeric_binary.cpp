#include "types/numeric_binary.h"

namespace pg2ch::types {

namespace {
// Sign words (numeric.c): PostgreSQL 14 added the two infinities.
constexpr std::uint16_t kPos = 0x0000, kNeg = 0x4000, kNaN = 0xC000, kPosInf = 0xD000, kNegInf = 0xF000;
constexpr std::uint16_t kDscaleMask = 0x3FFF;
}  // namespace

NumericValue parse_numeric(std::string_view bytes) {
  pgbin::Cursor in(bytes, "numeric");
  const std::int16_t ndigits = in.read<std::int16_t>();
  const std::int16_t weight = in.read<std::int16_t>();
  const std::uint16_t sign = in.read<std::uint16_t>();
  const std::uint16_t dscale = in.read<std::uint16_t>();
  // Offsets in the messages point at the offending field.
  if (ndigits < 0) pgbin::throw_malformed("numeric", "negative digit count", 0);
  if ((dscale & kDscaleMask) != dscale) pgbin::throw_malformed("numeric", "invalid display scale", 6);

  NumericValue n;
  switch (sign) {
    case kPos: break;
    case kNeg: n.negative = true; break;
    case kNaN: n.kind = NumericValue::Kind::NaN; break;
    case kPosInf: n.kind = NumericValue::Kind::PosInfinity; break;
    case kNegInf: n.kind = NumericValue::Kind::NegInfinity; break;
    default: pgbin::throw_malformed("numeric", "invalid sign", 4);
  }
  const std::string_view digits = in.take(static_cast<std::size_t>(ndigits) * 2);
  in.expect_end();

  int skip = 0;
  for (int i = 0; i < ndigits; ++i) {
    const std::uint16_t d = pgbin::load_be<std::uint16_t>(digits.data() + 2 * i);
    if (d >= 10000) pgbin::throw_malformed("numeric", "digit out of range", 8 + 2 * static_cast<std::size_t>(i));
    if (d == 0 && skip == i) ++skip;
  }
  n.dscale = dscale;
  if (n.kind != NumericValue::Kind::Finite) return n;  // digits and weight are meaningless
  n.digits = digits.data() + 2 * skip;
  n.ndigits = ndigits - skip;
  n.weight = weight - skip;
  if (n.ndigits == 0) n.negative = false;  // -0 reads back as 0 in PostgreSQL too
  return n;
}

std::optional<NumericTypmod> decode_numeric_typmod(std::int32_t typmod) {
  constexpr std::int32_t kVarHdrSz = 4;  // typmods are offset by the varlena header size
  if (typmod < kVarHdrSz) return std::nullopt;
  const std::int32_t t = typmod - kVarHdrSz;
  NumericTypmod m;
  m.precision = (t >> 16) & 0xFFFF;
  m.scale = ((t & 0x7FF) ^ 1024) - 1024;  // 11-bit two's complement since PostgreSQL 15
  return m;
}

}  // namespace pg2ch::types
