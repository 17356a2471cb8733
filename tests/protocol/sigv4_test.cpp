// SigV4 credential scope parsing.
#include "ecsd/protocol/sigv4.hpp"

#include <gtest/gtest.h>

namespace ecsd::protocol {
namespace {

TEST(SigV4Test, ParsesCredentialScopeFromAuthorization) {
  auto s = parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/eu-west-1/ecs/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=abc");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->access_key, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(s->date, "20260101");
  EXPECT_EQ(s->region, "eu-west-1");
  EXPECT_EQ(s->service, "ecs");
}

TEST(SigV4Test, RejectsOtherSchemesAndBrokenScopes) {
  EXPECT_FALSE(parse_authorization(""));
  EXPECT_FALSE(parse_authorization("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ecs"));
  EXPECT_FALSE(parse_credential("AKID/20260101//ecs/aws4_request"));
  EXPECT_TRUE(parse_credential("AKID/20260101/us-west-2/sts/aws4_request"));
}

}  // namespace
}  // namespace ecsd::protocol
