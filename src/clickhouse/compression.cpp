#include "clickhouse/compression.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <string>

#include "common/error.h"

namespace pg2ch::clickhouse {
namespace {

// Output is produced straight into the buffer's tail in steps of at least this size, so small
// inputs do not cost one codec call per few bytes.
constexpr std::size_t kMinOutputStep = 64 * 1024;

std::size_t output_step(std::size_t input_size) { return std::max(kMinOutputStep, input_size / 2); }

class GzipCompressor final : public BodyCompressor {
 public:
  GzipCompressor() {
    // 16 + MAX_WBITS selects the gzip wrapper (header + CRC32 trailer) that "Content-Encoding:
    // gzip" promises; a bare zlib stream is "deflate".
    if (deflateInit2(&z_, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw Error(ErrorKind::Internal, "zlib deflateInit2 failed");
  }
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;
  ~GzipCompressor() override { deflateEnd(&z_); }

  void reset() override {
    if (deflateReset(&z_) != Z_OK) throw Error(ErrorKind::Internal, "zlib deflateReset failed");
  }

  void write(std::string_view in, ByteBuffer& out) override {
    // avail_in is 32-bit: feed huge inputs in slices.
    constexpr std::size_t kMaxSlice = 1u << 30;
    while (!in.empty()) {
      std::string_view slice = in.substr(0, kMaxSlice);
      in.remove_prefix(slice.size());
      run(slice, Z_NO_FLUSH, out);
    }
  }

  void finish(ByteBuffer& out) override { run({}, Z_FINISH, out); }

 private:
  void run(std::string_view in, int flush, ByteBuffer& out) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    const std::size_t step = output_step(in.size());
    int rc = Z_OK;
    do {
      char* dst = out.tail(step);
      z_.next_out = reinterpret_cast<Bytef*>(dst);
      z_.avail_out = static_cast<uInt>(step);
      rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) throw Error(ErrorKind::Internal, "zlib deflate failed");
      out.commit(step - z_.avail_out);
      // A full output window means zlib may have more to give; Z_FINISH ends with Z_STREAM_END.
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  }

  z_stream z_{};
};

struct ZstdCtxDeleter {
  void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};

class ZstdCompressor final : public BodyCompressor {
 public:
  ZstdCompressor() : ctx_(ZSTD_createCCtx()) {
    if (!ctx_) throw Error(ErrorKind::Internal, "ZSTD_createCCtx failed");
    check(ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_compressionLevel, 1), "set level");
  }

  void reset() override { check(ZSTD_CCtx_reset(ctx_.get(), ZSTD_reset_session_only), "reset"); }

  void write(std::string_view in, ByteBuffer& out) override {
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    const std::size_t step = std::max(ZSTD_CStreamOutSize(), output_step(in.size()));
    while (src.pos < src.size) {
      ZSTD_outBuffer dst{out.tail(step), step, 0};
      check(ZSTD_compressStream2(ctx_.get(), &dst, &src, ZSTD_e_continue), "compress");
      out.commit(dst.pos);
    }
  }

  void finish(ByteBuffer& out) override {
    ZSTD_inBuffer src{nullptr, 0, 0};
    const std::size_t step = ZSTD_CStreamOutSize();
    std::size_t remaining = 0;
    do {
      ZSTD_outBuffer dst{out.tail(step), step, 0};
      remaining = check(ZSTD_compressStream2(ctx_.get(), &dst, &src, ZSTD_e_end), "finish");
      out.commit(dst.pos);
    } while (remaining != 0);
  }

 private:
  static std::size_t check(std::size_t rc, const char* what) {
    if (ZSTD_isError(rc))
      throw Error(ErrorKind::Internal, std::string("zstd ") + what + " failed: " + ZSTD_getErrorName(rc));
    return rc;
  }

  std::unique_ptr<ZSTD_CCtx, ZstdCtxDeleter> ctx_;
};

}  // namespace

std::unique_ptr<BodyCompressor> make_body_compressor(Compression compression) {
  switch (compression) {
    case Compression::None: return nullptr;
    case Compression::Gzip: return std::make_unique<GzipCompressor>();
    case Compression::Zstd: return std::make_unique<ZstdCompressor>();
  }
  return nullptr;
}

std::string_view content_encoding(Compression compression) {
  switch (compression) {
    case Compression::None: return "";
    case Compression::Gzip: return "gzip";
    case Compression::Zstd: return "zstd";
  }
  return "";
}

std::string_view to_string(Compression compression) {
  return compression == Compression::None ? "none" : content_encoding(compression);
}

}  // namespace pg2ch::clickhouse
