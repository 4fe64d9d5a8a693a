// The 256-bit accumulator behind Decimal256.
#include <string>

#include "types/wide_int.h"
#include "types_test_support.h"

namespace pg2ch::types::test {
namespace {

std::string bytes_of(const UInt256& v) { return tohex(std::string_view(reinterpret_cast<const char*>(v.limb), 32)); }

TEST(TypesWideInt, MulAddCarriesAcrossLimbs) {
  UInt256 v;
  mul_add(v, 1, 0xFFFFFFFF);
  for (int i = 0; i < 8; ++i) mul_add(v, 0x10000, 0xFFFF);  // shift left 16 bits, fill with ones
  // 0xFFFFFFFF then 8 × 16 one-bits = 2^160 - 1
  EXPECT_EQ(bytes_of(v), std::string(40, 'f') + std::string(24, '0'));
  mul_add(v, 1, 1);  // + 1 = 2^160
  EXPECT_EQ(bytes_of(v), std::string(40, '0') + "01" + std::string(22, '0'));
}

TEST(TypesWideInt, NegateIsTwosComplement) {
  UInt256 v;
  v.negate();  // -0 = 0
  EXPECT_EQ(bytes_of(v), std::string(64, '0'));
  mul_add(v, 1, 1);
  v.negate();  // -1
  EXPECT_EQ(bytes_of(v), std::string(64, 'f'));
  UInt256 w;
  w.limb[1] = 1;  // 2^64
  w.negate();
  EXPECT_EQ(bytes_of(w), std::string(16, '0') + std::string(48, 'f'));
}

}  // namespace
}  // namespace pg2ch::types::test
