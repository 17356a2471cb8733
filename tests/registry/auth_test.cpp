// Tests for registry tokens, base64 and the region <-> loopback address mapping.
#include "ecsd/registry/auth.hpp"

#include <gtest/gtest.h>

namespace ecsd::registry {
namespace {

TEST(AuthTest, TokensAreCheckedForAccountRegionExpiryAndTampering) {
  TokenAuthority auth("secret");
  std::string pw = auth.issue("000000000000", "us-east-1", 1000);
  EXPECT_TRUE(auth.verify(pw, "000000000000", "us-east-1", 999));
  EXPECT_FALSE(auth.verify(pw, "000000000000", "us-east-1", 1000));  // expired
  EXPECT_FALSE(auth.verify(pw, "000000000000", "us-west-2", 999));
  EXPECT_FALSE(auth.verify(pw, "111111111111", "us-east-1", 999));
  EXPECT_FALSE(TokenAuthority("other").verify(pw, "000000000000", "us-east-1", 999));
  std::string longer = pw;
  longer.replace(pw.find(".1000."), 6, ".9999.");  // a later expiry without a new MAC
  EXPECT_FALSE(auth.verify(longer, "000000000000", "us-east-1", 999));
  EXPECT_FALSE(auth.verify("", "000000000000", "us-east-1", 0));
  EXPECT_FALSE(auth.verify("ecsd1.", "000000000000", "us-east-1", 0));
}

TEST(AuthTest, Base64RoundTripsAndRejectsGarbage) {
  for (const std::string& s : std::vector<std::string>{"", "A", "AW", "AWS", "AWS:password", std::string("\0\xff\x10", 3)})
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  EXPECT_EQ(base64_encode("AWS:x"), "QVdTOng=");
  EXPECT_FALSE(base64_decode("QVdTOng"));   // not padded
  EXPECT_FALSE(base64_decode("QV!TOng="));
  EXPECT_FALSE(base64_decode("QV=TOng="));
}

TEST(AuthTest, EachRegionHasItsOwnLoopbackAddress) {
  EXPECT_EQ(region_address("us-east-1"), "127.0.1.1");
  EXPECT_EQ(region_address("us-west-2"), "127.0.4.1");
  EXPECT_EQ(region_address("nowhere-1"), "");
  for (const auto& r : regions()) EXPECT_EQ(address_region(region_address(r)), r);
  EXPECT_FALSE(address_region("127.0.0.1"));
  EXPECT_FALSE(address_region("10.0.1.1"));
}

}  // namespace
}  // namespace ecsd::registry
