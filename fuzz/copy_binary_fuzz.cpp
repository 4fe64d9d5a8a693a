// COPY binary parser (src/pg/copy_binary_parser.h). The first byte chooses the chunk size (the
// parser must not care where PQgetCopyData cuts the stream) and whether the field count is
// given; the rest is the COPY stream. Every field of every row is read.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_support.h"
#include "pg/copy_binary_parser.h"

namespace {

struct Sink {
  std::size_t sum = 0;
  void row(std::span<const pg2ch::pg::FieldView> fields) {
    for (const auto& f : fields)
      for (char c : f.view()) sum += static_cast<unsigned char>(c);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = (data[0] & 0x3F) == 0 ? size : (data[0] & 0x3F);
  const int expected_fields = (data[0] & 0x40) ? 3 : -1;
  const auto stream = pg2ch::fuzz::as_view(data + 1, size - 1);
  pg2ch::fuzz::expect_only_pg2ch_errors([&] {
    pg2ch::pg::CopyBinaryParser parser(expected_fields);
    Sink sink;
    for (std::size_t pos = 0; pos < stream.size(); pos += chunk)
      parser.feed(stream.substr(pos, std::min(chunk, stream.size() - pos)), sink);
    parser.finish();
    volatile std::size_t keep = sink.sum;
    (void)keep;
  });
  return 0;
}
