#pragma once
// The body of a streaming INSERT as curl pulls it: asks the producer for the next chunk only
// when the previous one has been handed over, and compresses on the way when the endpoint
// compresses. Without compression the producer's bytes are copied straight into curl's buffer.
#include <cstddef>
#include <functional>
#include <string_view>

#include "clickhouse/compression.h"
#include "common/byte_buffer.h"

namespace pg2ch::clickhouse {

class ChunkedBody {
 public:
  // `compressor` may be null (no compression); it is reset here. `scratch` holds compressed
  // output between reads and keeps its capacity for the next body.
  ChunkedBody(const std::function<std::string_view()>& next_chunk, BodyCompressor* compressor, ByteBuffer& scratch);

  // Copies up to `capacity` bytes of the body into `dst`; returns 0 once the body has ended.
  // Exceptions from the producer or the codec pass through.
  std::size_t read(char* dst, std::size_t capacity);

 private:
  bool refill();

  const std::function<std::string_view()>& next_chunk_;
  BodyCompressor* compressor_;
  ByteBuffer& scratch_;
  std::string_view pending_;
  std::size_t pos_ = 0;
  bool ended_ = false;
};

}  // namespace pg2ch::clickhouse
