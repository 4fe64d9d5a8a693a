#pragma once
// Reference decoders for the tests: plain zlib/zstd streaming decompression, independent of the
// code under test.
#include <zlib.h>
#include <zstd.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace pg2ch::clickhouse::test {

inline std::string gunzip(std::string_view in) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("inflateInit2");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      throw std::runtime_error("inflate failed");
    }
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return out;
}

inline std::string unzstd(std::string_view in) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  std::string out;
  char buf[16384];
  std::size_t rc = 1;
  while (rc != 0) {
    ZSTD_outBuffer dst{buf, sizeof buf, 0};
    rc = ZSTD_decompressStream(ctx, &dst, &src);
    if (ZSTD_isError(rc) || (src.pos == src.size && dst.pos == 0 && rc != 0)) {
      ZSTD_freeDCtx(ctx);
      throw std::runtime_error("zstd decompress failed");
    }
    out.append(buf, dst.pos);
  }
  ZSTD_freeDCtx(ctx);
  return out;
}

}  // namespace pg2ch::clickhouse::test
