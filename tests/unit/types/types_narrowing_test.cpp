// Values of a widened source column written into the narrower type its target kept
// (logical.on_type_widened = "ignore"): exact when they fit, a Data error naming the value when not.
#include "types/narrowing_codec.h"
#include "types_test_support.h"

namespace pg2ch::types::test {
namespace {

ColumnMapping narrowed(std::uint32_t kept, const char* name, std::uint32_t arriving) {
  auto m = map(scalar(kept, name));
  m.codec = make_narrowing_codec(std::move(m.codec), arriving, kept);
  return m;
}

std::string refusal(const ColumnMapping& m, std::string_view pg_hex) {
  try {
    encode(m, pg_hex);
  } catch (const Error& e) {
    return e.kind() == ErrorKind::Data ? e.what() : std::string("not a Data error: ") + e.what();
  }
  return "written";
}

TEST(TypesNarrowing, IntegersThatFitAreWrittenInTheKeptWidth) {
  const auto i4 = narrowed(oid::kInt4, "integer", oid::kInt8);
  EXPECT_EQ(encode(i4, "000000007fffffff"), "ffffff7f");  // 2147483647
  EXPECT_EQ(encode(i4, "ffffffff80000000"), "00000080");  // -2147483648
  EXPECT_EQ(encode(i4, "ffffffffffffffff"), "ffffffff");  // -1
  EXPECT_NE(refusal(i4, "0000000080000000").find("2147483648 does not fit the target's Int32"), std::string::npos);
  EXPECT_NE(refusal(i4, "ffffffff7fffffff").find("-2147483649"), std::string::npos);
  const auto i2 = narrowed(oid::kInt2, "smallint", oid::kInt4);
  EXPECT_EQ(encode(i2, "00007fff"), "ff7f");
  EXPECT_EQ(encode(i2, "ffff8000"), "0080");
  EXPECT_NE(refusal(i2, "00008000").find("32768"), std::string::npos);
  EXPECT_NE(refusal(narrowed(oid::kInt2, "smallint", oid::kInt8), "0000000000010000").find("65536"),
            std::string::npos);
}

TEST(TypesNarrowing, DoublesThatAreFloatsAreWrittenAsFloat32) {
  const auto f4 = narrowed(oid::kFloat4, "real", oid::kFloat8);
  EXPECT_EQ(encode(f4, "3ff8000000000000"), "0000c03f");  // 1.5
  EXPECT_EQ(encode(f4, "7ff8000000000000"), "0000c07f");  // NaN
  EXPECT_EQ(encode(f4, "fff0000000000000"), "000080ff");  // -Infinity
  EXPECT_NE(refusal(f4, "3fb999999999999a").find("0.1 does not fit the target's Float32"), std::string::npos);
}

TEST(TypesNarrowing, TextLikeValuesGoThroughUnchanged) {
  auto text = map(scalar(oid::kText, "text"));
  const std::string plain = encode(text, "616263");
  text.codec = make_narrowing_codec(std::move(text.codec), oid::kText, oid::kVarchar);
  EXPECT_EQ(encode(text, "616263"), plain);
}

}  // namespace
}  // namespace pg2ch::types::test
