#include "clickhouse/rowbinary_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace pg2ch::clickhouse {
namespace {

std::string bytes(std::initializer_list<unsigned> list) {
  std::string s;
  for (unsigned b : list) s.push_back(static_cast<char>(b));
  return s;
}

TEST(ClickHouseRowBinary, VarintIsUnsignedLeb128) {
  struct Case {
    std::uint64_t value;
    std::string expected;
  };
  const Case cases[] = {
      {0, bytes({0x00})},
      {1, bytes({0x01})},
      {127, bytes({0x7F})},
      {128, bytes({0x80, 0x01})},
      {300, bytes({0xAC, 0x02})},
      {16384, bytes({0x80, 0x80, 0x01})},
      {~std::uint64_t{0}, bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})},
  };
  for (const Case& c : cases) {
    ByteBuffer buf;
    RowBinaryWriter(buf).varint(c.value);
    EXPECT_EQ(buf.view(), c.expected) << c.value;
  }
}

TEST(ClickHouseRowBinary, StringIsLengthPrefixed) {
  ByteBuffer buf;
  RowBinaryWriter w(buf);
  w.string("hi");
  w.string("");
  w.string(std::string(200, 'x'));
  EXPECT_EQ(buf.view().substr(0, 4), bytes({0x02, 'h', 'i', 0x00}));
  EXPECT_EQ(buf.view().substr(4, 2), bytes({0xC8, 0x01}));
  EXPECT_EQ(buf.size(), 4u + 2u + 200u);
}

TEST(ClickHouseRowBinary, FixedWidthIsLittleEndian) {
  ByteBuffer buf;
  RowBinaryWriter w(buf);
  w.fixed<std::int32_t>(-2);
  w.fixed<std::uint16_t>(0x1234);
  w.fixed<std::int64_t>(0x0102030405060708);
  EXPECT_EQ(buf.view(), bytes({0xFE, 0xFF, 0xFF, 0xFF, 0x34, 0x12, 8, 7, 6, 5, 4, 3, 2, 1}));
}

TEST(ClickHouseRowBinary, NullableAndArrayLayout) {
  ByteBuffer buf;
  RowBinaryWriter w(buf);
  // Nullable(String) NULL, then 'a'; Array(Nullable(Int32)) [5, NULL].
  w.null_flag(true);
  w.null_flag(false);
  w.string("a");
  w.varint(2);
  w.null_flag(false);
  w.fixed<std::int32_t>(5);
  w.null_flag(true);
  EXPECT_EQ(buf.view(), bytes({0x01, 0x00, 0x01, 'a', 0x02, 0x00, 5, 0, 0, 0, 0x01}));
}

TEST(ClickHouseRowBinary, UuidFromRfcBytesSwapsEachHalf) {
  // 01234567-89ab-cdef-0011-223344556677 in RFC (big-endian) byte order.
  const unsigned char rfc[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
  ByteBuffer buf;
  RowBinaryWriter(buf).uuid_from_rfc_bytes(rfc);
  EXPECT_EQ(buf.view(), bytes({0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
                               0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00}));
}

}  // namespace
}  // namespace pg2ch::clickhouse
