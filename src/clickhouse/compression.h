#pragma once
// Request-body compression for INSERTs (HTTP Content-Encoding). One compressor lives as long as
// its HttpClient: zlib's and zstd's contexts are created once and reset per body, and output goes
// into a caller-owned ByteBuffer that keeps its capacity, so a steady stream of inserts does not
// allocate.
#include <memory>
#include <string_view>

#include "clickhouse/http_client.h"
#include "common/byte_buffer.h"

namespace pg2ch::clickhouse {

class BodyCompressor {
 public:
  virtual ~BodyCompressor() = default;

  // Starts a new body; keeps the allocated state of the previous one.
  virtual void reset() = 0;
  // Appends compressed bytes for `in` to `out` (possibly none: the codec may hold input back).
  virtual void write(std::string_view in, ByteBuffer& out) = 0;
  // Ends the body: appends everything held back plus the trailer.
  virtual void finish(ByteBuffer& out) = 0;

  // Whole body at once: reset + write + finish.
  void compress(std::string_view in, ByteBuffer& out) {
    reset();
    write(in, out);
    finish(out);
  }
};

// nullptr for Compression::None. Level 1 for both codecs: inserts are CPU-bound on our side long
// before the network is, and level 1 already takes RowBinary to a fraction of its size.
std::unique_ptr<BodyCompressor> make_body_compressor(Compression compression);

// Value of the Content-Encoding header ("" for None).
std::string_view content_encoding(Compression compression);
std::string_view to_string(Compression compression);

}  // namespace pg2ch::clickhouse
