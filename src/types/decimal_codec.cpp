#include "types/decimal_codec.h"

#include <cstdint>
#include <string>
#include <type_traits>

#include "common/error.h"
#include "types/numeric_binary.h"
#include "types/numeric_text_codec.h"
#include "types/wide_int.h"

namespace pg2ch::types {
namespace {

constexpr char kLostDigitsHint[] =
    "the PostgreSQL column type may have changed since the ClickHouse table was created (e.g. a widening kept "
    "by logical.on_type_widened = \"ignore\"): copy the table again (`pg2ch resync`), or map the column to String: "
    "types = { \"<column>\" = \"String\" } in the table's [[tables]] entry";

// value × 10^scale as an unsigned magnitude, or an Error(Data) naming the value when that loses
// digits (`bytes` are the value's numeric_send form, printed only then).
// Acc is wide enough for 10^precision, and int_digits ≤ precision - scale is checked before the
// loop, so no step can overflow: every partial result is a prefix of the final one.
template <typename Acc>
Acc scaled_magnitude(const NumericValue& n, std::string_view bytes, int precision, int scale,
                       const std::string& type_name) {
  Acc acc{};
  if (n.ndigits == 0) return acc;
  if (n.weight >= 0 && 4 * n.weight + decimal_digits(n.digit(0)) > precision - scale) [[unlikely]]
    throw Error(ErrorKind::Data,
                "numeric " + numeric_text(bytes) + " has more integer digits than ClickHouse " + type_name + " holds",
                kLostDigitsHint);

  // Digit groups with exponents weight .. last_exp carry the value down to 10^-scale; when the
  // scale is not a multiple of 4 only the leading `partial` decimal digits of the last group do.
  const int last_exp = -((scale + 3) / 4);
  const int partial = scale % 4;
  bool lost = false;
  for (int e = n.weight; e >= last_exp; --e) {
    const int i = n.weight - e;
    const std::uint32_t d = i < n.ndigits ? n.digit(i) : 0;
    if (e == last_exp && partial != 0) {
      const std::uint32_t drop = kPow10[4 - partial];
      lost |= d % drop != 0;
      mul_add(acc, kPow10[partial], d / drop);
    } else {
      mul_add(acc, 10000, d);
    }
  }
  for (int i = n.weight >= last_exp ? n.weight - last_exp + 1 : 0; i < n.ndigits; ++i) lost |= n.digit(i) != 0;
  if (lost) [[unlikely]]
    throw Error(ErrorKind::Data,
                "numeric " + numeric_text(bytes) + " has more fractional digits than ClickHouse " + type_name + " keeps",
                kLostDigitsHint);
  return acc;
}

template <typename Acc, typename Stored>
void write_signed(clickhouse::RowBinaryWriter& out, Acc magnitude, bool negative) {
  // Two's complement in the unsigned type, then the bytes of the signed storage type.
  const Acc v = negative ? Acc{0} - magnitude : magnitude;
  out.fixed(static_cast<Stored>(v));
}

template <typename Acc, typename Stored>
class DecimalCodec final : public ValueCodec {
 public:
  DecimalCodec(int precision, int scale)
      : precision_(precision), scale_(scale), type_name_(decimal_type_name(precision, scale)) {}

  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    const NumericValue n = parse_numeric(v);
    if (n.kind != NumericValue::Kind::Finite) [[unlikely]]
      throw_special(n.kind);
    const Acc magnitude = scaled_magnitude<Acc>(n, v, precision_, scale_, type_name_);
    if constexpr (std::is_same_v<Acc, UInt256>) {
      UInt256 x = magnitude;
      if (n.negative) x.negate();
      out.raw(x.limb, sizeof(x.limb));
    } else {
      write_signed<Acc, Stored>(out, magnitude, n.negative);
    }
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override {
    static constexpr char kZero[32] = {};
    out.raw(kZero, sizeof(Stored));
  }

 private:
  [[noreturn]] void throw_special(NumericValue::Kind kind) const {
    const char* what = kind == NumericValue::Kind::NaN            ? "'NaN'"
                       : kind == NumericValue::Kind::NegInfinity ? "'-Infinity'"
                                                                 : "'Infinity'";
    throw Error(ErrorKind::Data, std::string("numeric ") + what + " cannot be stored in ClickHouse " + type_name_,
                "map the column to String: types = { \"<column>\" = \"String\" } in the table's [[tables]] entry");
  }

  int precision_;
  int scale_;
  std::string type_name_;
};

}  // namespace

std::string decimal_type_name(int precision, int scale) {
  return "Decimal(" + std::to_string(precision) + ", " + std::to_string(scale) + ")";
}

std::unique_ptr<ValueCodec> make_decimal_codec(int precision, int scale) {
  if (precision < 1 || precision > 76 || scale < 0 || scale > precision)
    throw Error(ErrorKind::Internal, "make_decimal_codec: invalid " + decimal_type_name(precision, scale));
  if (precision <= 9) return std::make_unique<DecimalCodec<std::uint64_t, std::int32_t>>(precision, scale);
  if (precision <= 18) return std::make_unique<DecimalCodec<std::uint64_t, std::int64_t>>(precision, scale);
  if (precision <= 38) return std::make_unique<DecimalCodec<uint128, uint128>>(precision, scale);
  return std::make_unique<DecimalCodec<UInt256, UInt256>>(precision, scale);
}

}  // namespace pg2ch::types
