#include "types/array_codec.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "types/pg_binary.h"

namespace pg2ch::types {
namespace {

constexpr int kMaxDims = 6;  // PostgreSQL's MAXDIM

// The array's dimensions as PostgreSQL writes them before a value ("[1:2][0:3]"), so an error
// says which value it means without printing elements of any type.
std::string shape_text(int ndim, const std::int32_t* lengths, const std::int32_t* lower_bounds) {
  std::string out;
  for (int i = 0; i < ndim; ++i) {
    const std::int64_t upper = std::int64_t{lower_bounds[i]} + lengths[i] - 1;
    out += "[" + std::to_string(lower_bounds[i]) + ":" + std::to_string(upper) + "]";
  }
  return out;
}

class ArrayCodec final : public ValueCodec {
 public:
  ArrayCodec(std::unique_ptr<ValueCodec> element, int dims) : element_(std::move(element)), dims_(dims) {}

  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    pgbin::Cursor in(v, "array");
    const auto ndim = in.read<std::int32_t>();
    const auto flags = in.read<std::int32_t>();
    in.read<std::uint32_t>();  // element oid, see array_codec.h
    if (ndim < 0 || ndim > kMaxDims) in.fail("invalid number of dimensions");
    if (flags != 0 && flags != 1) in.fail("invalid flags");

    std::int32_t lengths[kMaxDims];
    std::int32_t lower_bounds[kMaxDims];
    std::uint64_t items = ndim > 0 ? 1 : 0;
    for (int i = 0; i < ndim; ++i) {
      lengths[i] = in.read<std::int32_t>();
      lower_bounds[i] = in.read<std::int32_t>();  // not kept: ClickHouse arrays start at 1
      if (lengths[i] < 0) in.fail("negative dimension length");
      // Saturate: only "zero" and "more than the bytes can hold" matter below.
      items = std::min<std::uint64_t>(items * static_cast<std::uint64_t>(lengths[i]), std::uint64_t{1} << 32);
    }
    if (items == 0) {  // PostgreSQL reads every zero-element array back as '{}'
      in.expect_end();
      out.varint(0);
      return;
    }
    if (items > in.remaining() / 4) in.fail("truncated");  // every element has at least a length word
    if (ndim != dims_) [[unlikely]]
      throw Error(ErrorKind::Data,
                  "array " + shape_text(ndim, lengths, lower_bounds) + " has " + std::to_string(ndim) +
                      " dimension(s) but the ClickHouse column has " + std::to_string(dims_),
                  "declare the array's dimensions on the PostgreSQL column (e.g. integer[][]) so it maps to nested "
                  "Arrays, or exclude the column with `exclude = [\"<column>\"]` in the table's config");
    write_level(in, out, lengths, 0);
    in.expect_end();
  }

  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.varint(0); }

 private:
  void write_level(pgbin::Cursor& in, clickhouse::RowBinaryWriter& out, const std::int32_t* lengths, int level) const {
    const std::int32_t n = lengths[level];
    out.varint(static_cast<std::uint64_t>(n));
    if (level + 1 < dims_) {
      for (std::int32_t j = 0; j < n; ++j) write_level(in, out, lengths, level + 1);
      return;
    }
    for (std::int32_t j = 0; j < n; ++j) {
      const auto len = in.read<std::int32_t>();
      if (len == -1) {
        out.null_flag(true);
        continue;
      }
      if (len < 0) in.fail("invalid element length");
      out.null_flag(false);
      element_->encode_binary(in.take(static_cast<std::size_t>(len)), out);
    }
  }

  std::unique_ptr<ValueCodec> element_;
  int dims_;
};

}  // namespace

std::unique_ptr<ValueCodec> make_array_codec(std::unique_ptr<ValueCodec> element, int dims) {
  if (dims < 1 || dims > kMaxDims) throw Error(ErrorKind::Internal, "make_array_codec: invalid dims");
  return std::make_unique<ArrayCodec>(std::move(element), dims);
}

}  // namespace pg2ch::types
