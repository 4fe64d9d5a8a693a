#include "pg/wire_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "pg_test_util.h"
#include "pg/wire_writer.h"

namespace pg2ch::pg {
namespace {

using test::unhex;

TEST(PgWireReader, ReadsBigEndianIntegers) {
  const std::string bytes = unhex("7f" "fffe" "80000000" "fffffffe" "0102030405060708" "ffffffffffffffff");
  WireReader r(bytes);
  EXPECT_EQ(r.u8(), 0x7f);
  EXPECT_EQ(r.i16(), -2);
  EXPECT_EQ(r.i32(), INT32_MIN);
  EXPECT_EQ(r.u32(), 0xfffffffeu);
  EXPECT_EQ(r.i64(), 0x0102030405060708LL);
  EXPECT_EQ(r.u64(), UINT64_MAX);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(r.offset(), bytes.size());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(PgWireReader, StringsAndBytesAreViewsIntoTheInput) {
  const std::string bytes = std::string("abc\0\0xyz", 8);
  WireReader r(bytes);
  const std::string_view a = r.cstring();
  EXPECT_EQ(a, "abc");
  EXPECT_EQ(a.data(), bytes.data());
  EXPECT_EQ(r.cstring(), "");
  EXPECT_EQ(r.bytes(2), "xy");
  EXPECT_EQ(r.offset(), 7u);
  EXPECT_EQ(r.remaining(), 1u);
  EXPECT_EQ(r.bytes(0), "");
  EXPECT_EQ(r.rest(), "z");
  EXPECT_TRUE(r.at_end());
}

TEST(PgWireReader, OverrunThrowsProtocolErrorWithOffset) {
  const std::string bytes = unhex("000102");
  WireReader r(bytes, "test message");
  r.u8();
  try {
    r.i32();
    FAIL() << "expected ProtocolError";
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Protocol);
    EXPECT_NE(std::string(e.what()).find("test message"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("offset 1"), std::string::npos) << e.what();
  }
  // A failed read consumes nothing.
  EXPECT_EQ(r.offset(), 1u);
  EXPECT_THROW(r.bytes(3), ProtocolError);
  EXPECT_THROW(r.skip(3), ProtocolError);
  EXPECT_EQ(r.i16(), 0x0102);
  EXPECT_THROW(r.u8(), ProtocolError);
  EXPECT_THROW(r.u64(), ProtocolError);
}

TEST(PgWireReader, UnterminatedStringThrows) {
  const std::string bytes = "abc";
  WireReader r(bytes);
  EXPECT_THROW(r.cstring(), ProtocolError);
  WireReader empty(std::string_view{});
  EXPECT_THROW(empty.cstring(), ProtocolError);
}

TEST(PgWireReader, NegativeLengthAndTrailingBytesThrow) {
  const std::string bytes = "abcd";
  WireReader r(bytes);
  EXPECT_THROW(r.bytes_i32(-1), ProtocolError);
  EXPECT_EQ(r.bytes_i32(2), "ab");
  EXPECT_THROW(r.expect_end(), ProtocolError);
  r.skip(2);
  EXPECT_NO_THROW(r.expect_end());
}

TEST(PgWireReader, WriterIsTheInverse) {
  std::string out;
  WireWriter(out).u8(1).ch('x').i16(-3).i32(-4).u32(5).i64(-6).u64(7).cstring("name").bytes("raw");
  WireReader r(out);
  EXPECT_EQ(r.u8(), 1);
  EXPECT_EQ(r.ch(), 'x');
  EXPECT_EQ(r.i16(), -3);
  EXPECT_EQ(r.i32(), -4);
  EXPECT_EQ(r.u32(), 5u);
  EXPECT_EQ(r.i64(), -6);
  EXPECT_EQ(r.u64(), 7u);
  EXPECT_EQ(r.cstring(), "name");
  EXPECT_EQ(r.rest(), "raw");
  EXPECT_EQ(test::hex(out.substr(0, 4)), "0178fffd");
}

}  // namespace
}  // namespace pg2ch::pg
