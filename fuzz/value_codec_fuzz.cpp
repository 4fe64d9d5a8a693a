// PostgreSQL binary value → RowBinary (types::map_column's codecs, what RowEncoder calls for every
// column of snapshot and streamed rows). Input: byte 0 chooses the column type, byte 1 the server
// generation (ClickHouse 18.16 or 24.3: the mapping differs) and the String override
// (`[[tables]] types`, numeric only); the rest is the value as PostgreSQL sends it.
#include <cstddef>
#include <cstdint>

#include "clickhouse/rowbinary_writer.h"
#include "clickhouse/server_capabilities.h"
#include "common/byte_buffer.h"
#include "fuzz_support.h"
#include "fuzz_types.h"
#include "types/value_codec.h"

namespace {

const pg2ch::clickhouse::ServerCapabilities& caps(bool modern) {
  using pg2ch::clickhouse::ServerCapabilities;
  using pg2ch::clickhouse::parse_server_version;
  static const ServerCapabilities old_caps = ServerCapabilities::from_version(parse_server_version("18.16.1"));
  static const ServerCapabilities modern_caps = ServerCapabilities::from_version(parse_server_version("24.3.2.23"));
  return modern ? modern_caps : old_caps;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto& type = pg2ch::fuzz::pick_type(data[0]);
  const bool modern = (data[1] & 1) != 0;
  const bool as_string = (data[1] & 2) != 0 && type.oid == pg2ch::types::oid::kNumeric;
  const auto value = pg2ch::fuzz::as_view(data + 2, size - 2);
  pg2ch::fuzz::expect_only_pg2ch_errors([&] {
    auto mapping = as_string ? pg2ch::types::map_column_as("String", type, true, "public.t", "c")
                             : pg2ch::types::map_column(type, true, caps(modern), "public.t", "c");
    pg2ch::ByteBuffer buffer;
    pg2ch::clickhouse::RowBinaryWriter writer(buffer);
    mapping.codec->encode_binary(value, writer);
    mapping.codec->encode_default(writer);
  });
  return 0;
}
