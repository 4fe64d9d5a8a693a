// pgoutput decoder (src/pg/pgoutput_decoder.h): one XLogData payload per input, then every view
// the decoded message holds is read, so a view pointing outside the payload shows up under ASan.
// Protocol 2 (src/pg/pgoutput_stream.h) too: a stream control message is decoded as one, and any
// other input is also read as a change from inside a stream block (xid after the tag).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "pg/pgoutput_decoder.h"
#include "pg/pgoutput_stream.h"

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

std::size_t decode_v1(pg2ch::pg::PgoutputDecoder& decoder, std::string_view payload) {
  using Type = pg2ch::pg::PgoutputDecoder::MessageType;
  switch (decoder.decode(payload)) {
    case Type::Origin: return touch(decoder.origin().name);
    case Type::Relation: {
      std::size_t sum = touch(decoder.relation().namespace_name) + touch(decoder.relation().name);
      for (const auto& c : decoder.relation().columns) sum += touch(c.name);
      return sum;
    }
    case Type::Type: return touch(decoder.type().namespace_name) + touch(decoder.type().name);
    case Type::Insert: return touch(decoder.insert().new_tuple);
    case Type::Update: return touch(decoder.update().old_tuple) + touch(decoder.update().new_tuple);
    case Type::Delete: return touch(decoder.remove().old_tuple);
    case Type::Truncate: return decoder.truncate().relation_oids.size();
    case Type::Message: return touch(decoder.message().prefix) + touch(decoder.message().content);
    case Type::Begin:
    case Type::Commit: return 0;
  }
  return 0;
}

std::size_t decode_stream_control(std::string_view payload) {
  namespace pgo = pg2ch::pg::pgoutput;
  switch (static_cast<pgo::StreamTag>(payload.front())) {
    case pgo::StreamTag::Start: return pgo::decode_stream_start(payload).xid;
    case pgo::StreamTag::Stop: pgo::check_stream_stop(payload); return 0;
    case pgo::StreamTag::Commit: return pgo::decode_stream_commit(payload).xid;
    case pgo::StreamTag::Abort: return pgo::decode_stream_abort(payload).subxid;
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static pg2ch::pg::PgoutputDecoder decoder;  // reused like the stream does: vectors keep their capacity
  static std::string v1;
  const std::string_view payload = pg2ch::fuzz::as_view(data, size);
  volatile std::size_t sink = 0;
  pg2ch::fuzz::expect_only_pg2ch_errors([&] { sink = decode_v1(decoder, payload); });
  if (pg2ch::pg::pgoutput::is_stream_control(payload)) {
    pg2ch::fuzz::expect_only_pg2ch_errors([&] { sink = decode_stream_control(payload); });
  } else {
    pg2ch::fuzz::expect_only_pg2ch_errors([&] {
      sink = pg2ch::pg::pgoutput::split_streamed_change(payload, v1);
      sink = sink + decode_v1(decoder, v1);
    });
  }
  (void)sink;
  return 0;
}
