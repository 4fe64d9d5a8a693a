#include "clickhouse/part_pressure.h"

#include <gtest/gtest.h>

namespace pg2ch::clickhouse {
namespace {

using namespace std::chrono_literals;

TEST(PartPressure, IntervalsGrowAsATargetNearsTheServersLimits) {
  const PartLimits limits{.delay_at = 150, .throw_at = 300};
  EXPECT_FALSE(pressed_interval(0, limits));
  EXPECT_FALSE(pressed_interval(74, limits));
  EXPECT_EQ(pressed_interval(75, limits), std::chrono::milliseconds(5s)) << "half of parts_to_delay_insert";
  EXPECT_EQ(pressed_interval(149, limits), std::chrono::milliseconds(5s));
  EXPECT_EQ(pressed_interval(150, limits), std::chrono::milliseconds(20s)) << "the server delays INSERTs itself";
  EXPECT_EQ(pressed_interval(1000, limits), std::chrono::milliseconds(20s));
}

TEST(PartPressure, TheDescriptionNamesTheTableTheCountAndBothLimits) {
  EXPECT_EQ(describe_parts("shop.orders", 160, {.delay_at = 150, .throw_at = 300}),
            "shop.orders has 160 active parts in one partition (ClickHouse delays INSERTs at 150, refuses them at 300)");
}

}  // namespace
}  // namespace pg2ch::clickhouse
