#include "types/text_codecs.h"

#include "types/pg_binary.h"

namespace pg2ch::types {
namespace {

class StringCodec final : public ValueCodec {
 public:
  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override { out.string(v); }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.varint(0); }
};

class JsonbCodec final : public ValueCodec {
 public:
  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    // Only version 1 exists; a different byte means a format we cannot interpret, not text.
    if (v.empty()) [[unlikely]]
      pgbin::throw_malformed("jsonb", "missing version byte", 0);
    if (v[0] != 1) [[unlikely]]
      pgbin::throw_malformed("jsonb", "unsupported version byte", 0);
    out.string(v.substr(1));
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.varint(0); }
};

class CharCodec final : public ValueCodec {
 public:
  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    pgbin::expect_length(v, 1, "\"char\"");
    out.string(v[0] == '\0' ? std::string_view{} : v);
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.varint(0); }
};

}  // namespace

std::unique_ptr<ValueCodec> make_string_codec() { return std::make_unique<StringCodec>(); }
std::unique_ptr<ValueCodec> make_jsonb_codec() { return std::make_unique<JsonbCodec>(); }
std::unique_ptr<ValueCodec> make_char_codec() { return std::make_unique<CharCodec>(); }

}  // namespace pg2ch::types
