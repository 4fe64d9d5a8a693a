// ByteBuffer: the append paths codecs use for empty values. Under scripts/sanitize.sh (UBSan)
// these used to report memcpy with a null pointer (fuzz/value_codec_fuzz finding).
#include "common/byte_buffer.h"

#include <gtest/gtest.h>

#include <string_view>

#include "clickhouse/rowbinary_writer.h"

namespace pg2ch {
namespace {

TEST(ByteBuffer, AppendingAnEmptyViewWithNullDataIsANoOp) {
  ByteBuffer fresh;  // never grown: its tail is null too
  fresh.append(std::string_view{});
  fresh.append(nullptr, 0);
  EXPECT_TRUE(fresh.empty());

  ByteBuffer out;
  out.push_back('x');
  out.append(std::string_view{});
  EXPECT_EQ(out.view(), "x");
}

TEST(ByteBuffer, RowBinaryEmptyStringFromANullView) {
  ByteBuffer out;
  clickhouse::RowBinaryWriter w(out);
  w.string(std::string_view{});  // what the "char" codec writes for PostgreSQL's '' ("char" 0x00)
  EXPECT_EQ(out.view(), std::string_view("\0", 1));
}

}  // namespace
}  // namespace pg2ch
