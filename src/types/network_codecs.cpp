#include "types/network_codecs.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdint>
#include <string>

#include "types/pg_binary.h"

namespace pg2ch::types {
namespace {

// PostgreSQL's own address family codes (utils/inet.h), not the platform's AF_* values.
constexpr std::uint8_t kPgAfInet = 2, kPgAfInet6 = 3;

class InetCodec final : public ValueCodec {
 public:
  explicit InetCodec(bool is_cidr) : is_cidr_(is_cidr) {}

  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    // inet_send: family, prefix bits, is_cidr flag, address length, address bytes.
    const char* type = is_cidr_ ? "cidr" : "inet";
    pgbin::Cursor in(v, type);
    const auto family = in.read<std::uint8_t>();
    const auto bits = in.read<std::uint8_t>();
    in.read<std::uint8_t>();  // is_cidr: the column type already says which it is
    const auto nbytes = in.read<std::uint8_t>();
    int af;
    unsigned max_bits;
    if (family == kPgAfInet && nbytes == 4) {
      af = AF_INET;
      max_bits = 32;
    } else if (family == kPgAfInet6 && nbytes == 16) {
      af = AF_INET6;
      max_bits = 128;
    } else {
      pgbin::throw_malformed(type, "invalid address family or length", 0);
    }
    if (bits > max_bits) pgbin::throw_malformed(type, "invalid prefix length", 1);
    const std::string_view addr = in.take(nbytes);
    in.expect_end();

    // inet_ntop and PostgreSQL both derive from BIND's formatter: same "::" compression and
    // the same embedded-IPv4 forms (::ffff:1.2.3.4, ::1.2.3.4).
    char buf[INET6_ADDRSTRLEN + 4];
    if (inet_ntop(af, addr.data(), buf, INET6_ADDRSTRLEN) == nullptr)
      pgbin::throw_malformed(type, "unprintable address", 4);
    char* p = buf + std::char_traits<char>::length(buf);
    if (is_cidr_ || bits != max_bits) {
      *p++ = '/';
      p = std::to_chars(p, buf + sizeof(buf), bits).ptr;
    }
    out.string(std::string_view(buf, static_cast<std::size_t>(p - buf)));
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.varint(0); }

 private:
  bool is_cidr_;
};

class MacaddrCodec final : public ValueCodec {
 public:
  explicit MacaddrCodec(int bytes) : bytes_(static_cast<std::size_t>(bytes)) {}

  void encode_binary(std::string_view v, clickhouse::RowBinaryWriter& out) const override {
    pgbin::expect_length(v, bytes_, bytes_ == 6 ? "macaddr" : "macaddr8");
    static constexpr char kHex[] = "0123456789abcdef";
    char buf[3 * 8];
    for (std::size_t i = 0; i < bytes_; ++i) {
      const auto b = static_cast<unsigned char>(v[i]);
      buf[3 * i] = kHex[b >> 4];
      buf[3 * i + 1] = kHex[b & 0xF];
      buf[3 * i + 2] = ':';
    }
    out.string(std::string_view(buf, 3 * bytes_ - 1));
  }
  void encode_default(clickhouse::RowBinaryWriter& out) const override { out.varint(0); }

 private:
  std::size_t bytes_;
};

}  // namespace

std::unique_ptr<ValueCodec> make_inet_codec(bool is_cidr) { return std::make_unique<InetCodec>(is_cidr); }
std::unique_ptr<ValueCodec> make_macaddr_codec(int bytes) { return std::make_unique<MacaddrCodec>(bytes); }

}  // namespace pg2ch::types
