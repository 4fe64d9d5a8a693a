#include "types/scalar_codecs.h"

#include <cstdint>
#include <string>

#include "common/error.h"
#include "types/pg_binary.h"

namespace pg2ch::types {
namespace {

template <typename U>
class ByteSwapCodec final : public ValueCodec {
 public:
  explicit ByteSwapCodec(std::string_view pg_type) : pg_type_(pg_type) {}

  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    pgbin::expect_length(v, sizeof(U), pg_type_);
    out.fixed(pgbin::load_be<U>(v.data()));
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.fixed(U{0}); }

 private:
  std::string_view pg_type_;
};

class BoolCodec final : public ValueCodec {
 public:
  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    pgbin::expect_length(v, 1, "bool");
    // boolrecv treats any non-zero byte as true; ClickHouse Bool must be exactly 0 or 1.
    out.u8(v[0] != 0 ? 1 : 0);
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.u8(0); }
};

class UuidCodec final : public ValueCodec {
 public:
  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    pgbin::expect_length(v, 16, "uuid");
    out.uuid_from_rfc_bytes(reinterpret_cast<const unsigned char*>(v.data()));
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override {
    static constexpr unsigned char kNil[16] = {};
    out.uuid_from_rfc_bytes(kNil);
  }
};

}  // namespace

std::unique_ptr<ValueCodec> make_byteswap_codec(std::size_t width, std::string_view pg_type) {
  switch (width) {
    case 2: return std::make_unique<ByteSwapCodec<std::uint16_t>>(pg_type);
    case 4: return std::make_unique<ByteSwapCodec<std::uint32_t>>(pg_type);
    case 8: return std::make_unique<ByteSwapCodec<std::uint64_t>>(pg_type);
  }
  throw Error(ErrorKind::Internal, "make_byteswap_codec: unsupported width " + std::to_string(width));
}

std::unique_ptr<ValueCodec> make_bool_codec() { return std::make_unique<BoolCodec>(); }
std::unique_ptr<ValueCodec> make_uuid_codec() { return std::make_unique<UuidCodec>(); }

}  // namespace pg2ch::types
