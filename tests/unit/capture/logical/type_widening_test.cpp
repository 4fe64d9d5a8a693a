#include "capture/logical/type_widening.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>

#include "common/error.h"
#include "types/pg_type.h"

namespace pg2ch::capture::logical {
namespace {

namespace ids = types::oid;

constexpr std::int32_t varchar(int n) { return n + 4; }
constexpr std::int32_t numeric(int p, int s) { return ((p << 16) | s) + 4; }

TEST(TypeWidening, AcceptsOnlyWideningsThatKeepEveryValue) {
  const DeclaredType int2{ids::kInt2}, int4{ids::kInt4}, int8{ids::kInt8};
  EXPECT_FALSE(widening_refusal(int2, int4));
  EXPECT_FALSE(widening_refusal(int2, int8));
  EXPECT_FALSE(widening_refusal(int4, int8));
  EXPECT_FALSE(widening_refusal(int4, int4));
  EXPECT_EQ(widening_refusal(int8, int4), "bigint to integer narrows the integers");
  EXPECT_FALSE(widening_refusal({ids::kFloat4}, {ids::kFloat8}));
  EXPECT_TRUE(widening_refusal({ids::kFloat8}, {ids::kFloat4}));
  EXPECT_TRUE(widening_refusal(int4, {ids::kFloat8})) << "another family";
  EXPECT_TRUE(widening_refusal(int4, {ids::kDate}));
  EXPECT_TRUE(widening_refusal({ids::kText}, int4));

  EXPECT_FALSE(widening_refusal({ids::kVarchar, varchar(10)}, {ids::kVarchar, varchar(20)}));
  EXPECT_FALSE(widening_refusal({ids::kVarchar, varchar(10)}, {ids::kVarchar, -1}));
  EXPECT_FALSE(widening_refusal({ids::kVarchar, varchar(10)}, {ids::kText}));
  EXPECT_FALSE(widening_refusal({ids::kText}, {ids::kVarchar, -1}));
  EXPECT_EQ(widening_refusal({ids::kVarchar, varchar(20)}, {ids::kVarchar, varchar(10)}),
            "character varying(20) to character varying(10) shortens the strings");
  EXPECT_TRUE(widening_refusal({ids::kText}, {ids::kVarchar, varchar(10)}));
  EXPECT_TRUE(widening_refusal({ids::kBpchar, varchar(5)}, {ids::kBpchar, varchar(10)})) << "char pads with blanks";

  EXPECT_FALSE(widening_refusal({ids::kNumeric, numeric(10, 2)}, {ids::kNumeric, numeric(20, 2)}));
  EXPECT_FALSE(widening_refusal({ids::kNumeric, numeric(10, 2)}, {ids::kNumeric, -1}));
  EXPECT_EQ(widening_refusal({ids::kNumeric, numeric(10, 2)}, {ids::kNumeric, numeric(12, 3)}),
            "numeric(10,2) to numeric(12,3) changes the scale, which rounds or rescales the numbers");
  EXPECT_TRUE(widening_refusal({ids::kNumeric, numeric(10, 2)}, {ids::kNumeric, numeric(8, 2)}));
  EXPECT_TRUE(widening_refusal({ids::kNumeric, -1}, {ids::kNumeric, numeric(20, 2)}));

  // timestamp → timestamptz: a widening where the table was not rewritten (checked by the caller).
  EXPECT_FALSE(widening_refusal({ids::kTimestamp}, {ids::kTimestampTz}));
  EXPECT_FALSE(widening_refusal({ids::kTimestamp, 3}, {ids::kTimestampTz, 3}));
  EXPECT_FALSE(widening_refusal({ids::kTimestamp, 3}, {ids::kTimestampTz, -1}));
  EXPECT_EQ(widening_refusal({ids::kTimestamp}, {ids::kTimestampTz, 3}),
            "timestamp to timestamp with time zone rounds the fractions of a second");
  EXPECT_TRUE(widening_refusal({ids::kTimestampTz}, {ids::kTimestamp}));
  EXPECT_TRUE(timestamp_changes_zone({ids::kTimestamp}, {ids::kTimestampTz}));
  EXPECT_FALSE(timestamp_changes_zone({ids::kInt4}, {ids::kInt8}));
}

TEST(TypeWidening, OnlyIntegerAndFloatWideningsRewriteTheTable) {
  EXPECT_TRUE(widening_rewrites({ids::kInt4}, {ids::kInt8}));
  EXPECT_TRUE(widening_rewrites({ids::kFloat4}, {ids::kFloat8}));
  EXPECT_FALSE(widening_rewrites({ids::kVarchar, varchar(10)}, {ids::kText}));
  EXPECT_FALSE(widening_rewrites({ids::kNumeric, numeric(10, 2)}, {ids::kNumeric, numeric(20, 2)}));
}

std::string be(std::uint64_t v, int bytes) {
  std::string out(bytes, '\0');
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
  return out;
}

TEST(TypeWidening, WidensValuesAsPostgreSQLCastsThem) {
  std::string out;
  EXPECT_EQ(widen_value({ids::kInt2}, {ids::kInt8}, be(static_cast<std::uint16_t>(-2), 2), out),
            be(static_cast<std::uint64_t>(-2), 8));
  EXPECT_EQ(widen_value({ids::kInt4}, {ids::kInt8}, be(0x7fffffff, 4), out), be(0x7fffffff, 8));
  EXPECT_EQ(widen_value({ids::kInt2}, {ids::kInt4}, be(static_cast<std::uint16_t>(-32768), 2), out),
            be(static_cast<std::uint32_t>(-32768), 4));
  const float f = 0.1f;
  EXPECT_EQ(widen_value({ids::kFloat4}, {ids::kFloat8}, be(std::bit_cast<std::uint32_t>(f), 4), out),
            be(std::bit_cast<std::uint64_t>(static_cast<double>(f)), 8));
  const std::string text = "abc";
  EXPECT_EQ(widen_value({ids::kVarchar, varchar(3)}, {ids::kText}, text, out).data(), text.data()) << "as it is";
  EXPECT_THROW(widen_value({ids::kInt4}, {ids::kInt8}, be(1, 2), out), ProtocolError);
}

}  // namespace
}  // namespace pg2ch::capture::logical
