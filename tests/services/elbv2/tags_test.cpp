// Tests for the ELBv2 tag handlers (AddTags, RemoveTags, DescribeTags) and the account handlers
// (DescribeAccountLimits, DescribeSSLPolicies).
#include "elbv2_fixture.hpp"

namespace ecsd::services::elbv2 {
namespace {

json tag(const std::string& k, const std::string& v) { return {{"Key", k}, {"Value", v}}; }

using TagsTest = Elbv2Test;

TEST_F(TagsTest, EveryResourceKindTakesTags) {
  std::string lb = create_alb("web", {{"Tags", json::array({tag("env", "dev")})}})["LoadBalancerArn"];
  std::string tg = create_tg("web", "HTTP", 80, {{"Tags", json::array({tag("team", "a")})}})["TargetGroupArn"];
  std::string listener = create_http_listener(lb, tg)["ListenerArn"];
  std::string rule = path_rule(listener, 1, "/a", tg)["RuleArn"];
  add_tags(ctx_, {{"ResourceArns", json::array({lb, tg, listener, rule})}, {"Tags", json::array({tag("owner", "me")})}});
  json out = describe_tags(ctx_, {{"ResourceArns", json::array({lb, tg, listener, rule})}})["TagDescriptions"];
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["ResourceArn"], lb);
  EXPECT_EQ(out[0]["Tags"], json::array({tag("env", "dev"), tag("owner", "me")}));
  EXPECT_EQ(out[1]["Tags"], json::array({tag("team", "a"), tag("owner", "me")}));
  EXPECT_EQ(out[3]["Tags"], json::array({tag("owner", "me")}));
  remove_tags(ctx_, {{"ResourceArns", json::array({lb})}, {"TagKeys", json::array({"env", "absent"})}});
  out = describe_tags(ctx_, {{"ResourceArns", json::array({lb})}})["TagDescriptions"];
  EXPECT_EQ(out[0]["Tags"], json::array({tag("owner", "me")}));
  // Overwriting a key keeps one tag.
  add_tags(ctx_, {{"ResourceArns", json::array({lb})}, {"Tags", json::array({tag("owner", "you")})}});
  out = describe_tags(ctx_, {{"ResourceArns", json::array({lb})}})["TagDescriptions"];
  EXPECT_EQ(out[0]["Tags"], json::array({tag("owner", "you")}));
}

TEST_F(TagsTest, MissingResourcesUseTheirKindsNotFoundCode) {
  std::string lb = create_alb("web")["LoadBalancerArn"];
  std::string prefix = "arn:aws:elasticloadbalancing:us-east-1:000000000000:";
  auto code = [&](const std::string& arn) {
    return api_error([&] { describe_tags(ctx_, {{"ResourceArns", json::array({arn})}}); }).code;
  };
  EXPECT_EQ(code(prefix + "loadbalancer/app/nope/0123456789abcdef"), "LoadBalancerNotFound");
  EXPECT_EQ(code(prefix + "targetgroup/nope/0123456789abcdef"), "TargetGroupNotFound");
  EXPECT_EQ(code(prefix + "listener/app/web/1/2"), "ListenerNotFound");
  EXPECT_EQ(code(prefix + "listener-rule/app/web/1/2/3"), "RuleNotFound");
  EXPECT_EQ(code("not-an-arn"), "ValidationError");
}

TEST_F(TagsTest, DuplicateAndTooManyTags) {
  std::string lb = create_alb("web")["LoadBalancerArn"];
  auto e = api_error([&] {
    add_tags(ctx_, {{"ResourceArns", json::array({lb})}, {"Tags", json::array({tag("a", "1"), tag("a", "2")})}});
  });
  EXPECT_EQ(e.code, "DuplicateTagKeys");
  json many = json::array();
  for (int i = 0; i < kMaxTagsPerResource; ++i) many.push_back(tag("k" + std::to_string(i), "v"));
  add_tags(ctx_, {{"ResourceArns", json::array({lb})}, {"Tags", many}});
  e = api_error([&] { add_tags(ctx_, {{"ResourceArns", json::array({lb})}, {"Tags", json::array({tag("one-more", "v")})}}); });
  EXPECT_EQ(e.code, "TooManyTags");
  EXPECT_NO_THROW(add_tags(ctx_, {{"ResourceArns", json::array({lb})}, {"Tags", json::array({tag("k0", "new")})}}));
}

TEST(AccountTest, LimitsAndSslPolicies) {
  store::Store store(":memory:");
  RequestContext ctx{{kAccount, "us-east-1"}, "AKIDEXAMPLE", "req-1", store, kNow};
  json limits = describe_account_limits(ctx, json::object())["Limits"];
  bool found = false;
  for (const auto& l : limits)
    if (l["Name"] == "application-load-balancers") found = l["Max"] == "50";
  EXPECT_TRUE(found);
  json policies = describe_ssl_policies(ctx, json::object())["SslPolicies"];
  EXPECT_GE(policies.size(), 4u);
  json one = describe_ssl_policies(ctx, {{"Names", json::array({"ELBSecurityPolicy-2016-08"})}})["SslPolicies"];
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["SslProtocols"], json::array({"TLSv1", "TLSv1.1", "TLSv1.2"}));
  EXPECT_EQ(one[0]["Ciphers"][0], json({{"Name", "ECDHE-ECDSA-AES128-GCM-SHA256"}, {"Priority", 1}}));
  EXPECT_TRUE(ssl_policy_exists(kDefaultSslPolicy));
  auto e = api_error([&] { describe_ssl_policies(ctx, {{"Names", json::array({"nope"})}}); });
  EXPECT_EQ(e.code, "SSLPolicyNotFound");
  json page1 = describe_ssl_policies(ctx, {{"PageSize", 2}});
  EXPECT_EQ(page1["SslPolicies"].size(), 2u);
  EXPECT_TRUE(page1.contains("NextMarker"));
}

}  // namespace
}  // namespace ecsd::services::elbv2
