#include "clickhouse/chunked_body.h"

#include <algorithm>
#include <cstring>

namespace pg2ch::clickhouse {

ChunkedBody::ChunkedBody(const std::function<std::string_view()>& next_chunk, BodyCompressor* compressor,
                         ByteBuffer& scratch)
    : next_chunk_(next_chunk), compressor_(compressor), scratch_(scratch) {
  if (compressor_) compressor_->reset();
}

std::size_t ChunkedBody::read(char* dst, std::size_t capacity) {
  std::size_t copied = 0;
  while (copied < capacity) {
    if (pos_ == pending_.size() && !refill()) break;
    const std::size_t n = std::min(capacity - copied, pending_.size() - pos_);
    std::memcpy(dst + copied, pending_.data() + pos_, n);
    pos_ += n;
    copied += n;
  }
  return copied;
}

bool ChunkedBody::refill() {
  // A codec may swallow a whole chunk without output, so keep pulling until there are bytes to
  // hand over or the body is over: returning 0 to curl would end the upload.
  while (!ended_) {
    std::string_view chunk = next_chunk_();
    ended_ = chunk.empty();
    if (!compressor_) {
      pending_ = chunk;
    } else {
      scratch_.clear();
      if (ended_) {
        compressor_->finish(scratch_);
      } else {
        compressor_->write(chunk, scratch_);
      }
      pending_ = scratch_.view();
    }
    pos_ = 0;
    if (!pending_.empty()) return true;
  }
  return false;
}

}  // namespace pg2ch::clickhouse
