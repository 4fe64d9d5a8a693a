#include "types/numeric_text_codec.h"

#include <algorithm>

#include "common/byte_buffer.h"
#include "types/numeric_binary.h"

namespace pg2ch::types {
namespace {

// Writes the 4 decimal digits of a base-10000 digit.
inline void put_group(char* p, std::uint32_t d) noexcept {
  p[0] = static_cast<char>('0' + d / 1000);
  p[1] = static_cast<char>('0' + d / 100 % 10);
  p[2] = static_cast<char>('0' + d / 10 % 10);
  p[3] = static_cast<char>('0' + d % 10);
}

class NumericTextCodec final : public ValueCodec {
 public:
  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    const NumericValue n = parse_numeric(v);
    switch (n.kind) {
      case NumericValue::Kind::NaN: out.string("NaN"); return;
      case NumericValue::Kind::PosInfinity: out.string("Infinity"); return;
      case NumericValue::Kind::NegInfinity: out.string("-Infinity"); return;
      case NumericValue::Kind::Finite: break;
    }
    // The length is known up front, so the text is written straight into the output buffer
    // (a numeric may have 131072 integer digits: no fixed-size scratch buffer).
    const bool has_int = n.ndigits > 0 && n.weight >= 0;
    const std::size_t int_len = has_int ? 4 * static_cast<std::size_t>(n.weight) + decimal_digits(n.digit(0)) : 1;
    const std::size_t len = (n.negative ? 1 : 0) + int_len + (n.dscale > 0 ? 1 + n.dscale : 0);
    out.varint(len);
    char* p = out.buffer().tail(len);
    char* const start = p;
    if (n.negative) *p++ = '-';
    if (!has_int) {
      *p++ = '0';
    } else {
      char first[4];
      put_group(first, n.digit(0));
      const int skip = 4 - decimal_digits(n.digit(0));
      p = std::copy(first + skip, first + 4, p);
      for (int i = 1; i <= n.weight; ++i, p += 4) put_group(p, i < n.ndigits ? n.digit(i) : 0);
    }
    if (n.dscale > 0) {
      // Like numeric_out: exactly dscale fractional digits, digits beyond it are cut off.
      *p++ = '.';
      int remaining = n.dscale;
      for (int i = n.weight + 1; remaining > 0; ++i) {
        char group[4];
        put_group(group, i >= 0 && i < n.ndigits ? n.digit(i) : 0);
        const int take = std::min(remaining, 4);
        p = std::copy(group, group + take, p);
        remaining -= take;
      }
    }
    out.buffer().commit(static_cast<std::size_t>(p - start));
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.varint(0); }
};

}  // namespace

std::unique_ptr<ValueCodec> make_numeric_text_codec() { return std::make_unique<NumericTextCodec>(); }

std::string numeric_text(std::string_view v, std::size_t max_chars) {
  ByteBuffer buf;
  clickhouse::RowBinaryWriter w(buf);
  NumericTextCodec().encode_binary(v, w);
  std::string_view text = buf.view();
  while (!text.empty() && (static_cast<unsigned char>(text.front()) & 0x80) != 0) text.remove_prefix(1);
  text.remove_prefix(1);  // the varint's last byte: the length RowBinary puts before the text
  if (text.size() <= max_chars) return std::string(text);
  return std::string(text.substr(0, max_chars)) + "... (" + std::to_string(text.size()) + " characters)";
}

}  // namespace pg2ch::types
