// pgoutput decoder (src/pg/pgoutput_decoder.h): one XLogData payload per input, then every view
// the decoded message holds is read, so a view pointing outside the payload shows up under ASan.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "pg/pgoutput_decoder.h"

namespace {

std::size_t touch(std::string_view s) {
  std::size_t sum = 0;
  for (char c : s) sum += static_cast<unsigned char>(c);
  return sum;
}

std::size_t touch(const pg2ch::pg::pgoutput::Tuple& t) {
  std::size_t sum = 0;
  for (const auto& v : t) sum += touch(v.data) + static_cast<std::size_t>(v.kind);
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pg2ch::pg::PgoutputDecoder;
  using Type = PgoutputDecoder::MessageType;
  static PgoutputDecoder decoder;  // reused like the stream does: vectors keep their capacity
  volatile std::size_t sink = 0;
  pg2ch::fuzz::expect_only_pg2ch_errors([&] {
    switch (decoder.decode(pg2ch::fuzz::as_view(data, size))) {
      case Type::Origin: sink = touch(decoder.origin().name); break;
      case Type::Relation:
        sink = touch(decoder.relation().namespace_name) + touch(decoder.relation().name);
        for (const auto& c : decoder.relation().columns) sink = sink + touch(c.name);
        break;
      case Type::Type: sink = touch(decoder.type().namespace_name) + touch(decoder.type().name); break;
      case Type::Insert: sink = touch(decoder.insert().new_tuple); break;
      case Type::Update: sink = touch(decoder.update().old_tuple) + touch(decoder.update().new_tuple); break;
      case Type::Delete: sink = touch(decoder.remove().old_tuple); break;
      case Type::Truncate: sink = decoder.truncate().relation_oids.size(); break;
      case Type::Message: sink = touch(decoder.message().prefix) + touch(decoder.message().content); break;
      case Type::Begin:
      case Type::Commit: break;
    }
  });
  (void)sink;
  return 0;
}
