#include "types/narrowing_codec.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "common/error.h"
#include "types/pg_type.h"

namespace pg2ch::types {

namespace {

std::uint64_t read_be(std::string_view v) {
  std::uint64_t x = 0;
  for (unsigned char c : v) x = x << 8 | c;
  return x;
}

std::string write_be(std::uint64_t x, std::size_t width) {
  std::string out(width, '\0');
  for (std::size_t i = 0; i < width; ++i) out[width - 1 - i] = static_cast<char>((x >> (8 * i)) & 0xff);
  return out;
}

std::int64_t read_signed(std::string_view v) {
  const std::uint64_t raw = read_be(v);
  const unsigned bits = static_cast<unsigned>(v.size() * 8);
  if (bits == 64) return static_cast<std::int64_t>(raw);
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  return static_cast<std::int64_t>((raw ^ sign) - sign);
}

std::size_t width_of(std::uint32_t oid) {
  switch (oid) {
    case oid::kInt2: return 2;
    case oid::kInt4:
    case oid::kFloat4: return 4;
    case oid::kInt8:
    case oid::kFloat8: return 8;
    default: return 0;
  }
}

class NarrowingCodec final : public ValueCodec {
 public:
  NarrowingCodec(std::unique_ptr<ValueCodec> inner, std::uint32_t from, std::uint32_t to)
      : inner_(std::move(inner)), from_(from), to_(to) {}

  void encode_binary(std::string_view pg_binary, clickhouse::RowBinaryWriter& out) const override {
    const std::size_t from_width = width_of(from_), to_width = width_of(to_);
    if (from_width == 0 || to_width == 0 || from_ == to_) {
      inner_->encode_binary(pg_binary, out);
      return;
    }
    if (pg_binary.size() != from_width) {
      throw ProtocolError(fmt::format("malformed value: expected {} bytes, got {}", from_width, pg_binary.size()));
    }
    std::string narrowed;
    if (from_ == oid::kFloat8) {
      const double d = std::bit_cast<double>(read_be(pg_binary));
      const float f = static_cast<float>(d);
      if (!std::isnan(d) && static_cast<double>(f) != d) {
        throw Error(ErrorKind::Data, fmt::format("value {} does not fit the target's Float32 exactly", d),
                    "the source column was widened and logical.on_type_widened is \"ignore\": set it to \"evolve\" "
                    "(the target column is widened too), or exclude \"<column>\"");
      }
      narrowed = write_be(std::bit_cast<std::uint32_t>(f), 4);
    } else {
      const std::int64_t v = read_signed(pg_binary);
      const std::int64_t max = to_width == 2 ? std::numeric_limits<std::int16_t>::max()
                                             : std::numeric_limits<std::int32_t>::max();
      if (v > max || v < -max - 1) {
        throw Error(ErrorKind::Data, fmt::format("value {} does not fit the target's Int{}", v, to_width * 8),
                    "the source column was widened and logical.on_type_widened is \"ignore\": set it to \"evolve\" "
                    "(the target column is widened too), or exclude \"<column>\"");
      }
      narrowed = write_be(static_cast<std::uint64_t>(v), to_width);
    }
    inner_->encode_binary(narrowed, out);
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { inner_->encode_default(out); }

 private:
  std::unique_ptr<ValueCodec> inner_;
  std::uint32_t from_, to_;
};

}  // namespace

std::unique_ptr<ValueCodec> make_narrowing_codec(std::unique_ptr<ValueCodec> inner, std::uint32_t from_oid,
                                                 std::uint32_t to_oid) {
  return std::make_unique<NarrowingCodec>(std::move(inner), from_oid, to_oid);
}

}  // namespace pg2ch::types
