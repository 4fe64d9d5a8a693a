#include "pg/wire_reader.h"

#include <fmt/format.h>

#include "common/error.h"

namespace pg2ch::pg {

// The throw paths are out of line so the inline readers stay small enough to be inlined into
// the decoders' loops.

void WireReader::fail(std::string_view message) const {
  throw ProtocolError(fmt::format("{}: {} at offset {}", what_, message, pos_));
}

void WireReader::overrun(std::size_t n) const {
  fail(fmt::format("truncated: need {} bytes, {} left", n, size_ - pos_));
}

void WireReader::unterminated_string() const { fail("string without NUL terminator"); }

void WireReader::negative_length(std::int32_t n) const { fail(fmt::format("negative length {}", n)); }

void WireReader::trailing_bytes() const { fail(fmt::format("{} unexpected trailing bytes", size_ - pos_)); }

}  // namespace pg2ch::pg
