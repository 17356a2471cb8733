// Tests for the clock module and ISO 8601 conversions.
#include "ecsd/common/clock.hpp"

#include <gtest/gtest.h>

namespace ecsd {
namespace {

TEST(ClockTest, Iso8601FormatsUtcWithMilliseconds) {
  EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601(1767225600.25), "2026-01-01T00:00:00.250Z");
}

TEST(ClockTest, ParseIso8601AcceptsFractionsAndOffsets) {
  double t = 0;
  ASSERT_TRUE(parse_iso8601("2026-01-01T00:00:00Z", t));
  EXPECT_DOUBLE_EQ(t, 1767225600);
  ASSERT_TRUE(parse_iso8601("2026-01-01T01:00:00.5+01:00", t));
  EXPECT_DOUBLE_EQ(t, 1767225600.5);
  EXPECT_FALSE(parse_iso8601("yesterday", t));
  EXPECT_FALSE(parse_iso8601("2026-13-01T00:00:00Z", t));
}

TEST(ClockTest, SetClockReplacesTheProcessClock) {
  FakeClock fake(100);
  set_clock(&fake);
  EXPECT_DOUBLE_EQ(clock().now(), 100);
  fake.advance(5);
  EXPECT_DOUBLE_EQ(clock().now(), 105);
  set_clock(nullptr);
  EXPECT_GT(clock().now(), 1.7e9);
}

TEST(ClockTest, TimeScaleShortensConfiguredDurationsOnly) {
  FakeClock fake;
  set_clock(&fake);
  EXPECT_DOUBLE_EQ(scaled(40), 40);
  ASSERT_TRUE(fake.set_scale(10));
  EXPECT_DOUBLE_EQ(scaled(40), 4);
  EXPECT_DOUBLE_EQ(scaled(300), 30);
  double before = fake.now();
  fake.advance(1);
  EXPECT_DOUBLE_EQ(fake.now(), before + 1);  // timestamps stay wall-clock: the scale does not move them
  EXPECT_FALSE(fake.set_scale(0));
  EXPECT_FALSE(fake.set_scale(-2));
  EXPECT_FALSE(fake.set_scale(1e9));
  EXPECT_DOUBLE_EQ(fake.scale(), 10);
  set_clock(nullptr);
  EXPECT_DOUBLE_EQ(scaled(40), 40);  // the system clock keeps its own scale (1)
}

}  // namespace
}  // namespace ecsd
