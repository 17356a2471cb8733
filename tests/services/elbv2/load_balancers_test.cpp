// Tests for the ELBv2 load balancer handlers (CreateLoadBalancer, DescribeLoadBalancers,
// DeleteLoadBalancer, Describe/ModifyLoadBalancerAttributes), called directly on an in-memory store.
#include <regex>
#include <set>

#include "elbv2_fixture.hpp"

#include "ecsd/domain/elb.hpp"
#include "ecsd/store/tag_repo.hpp"

namespace ecsd::services::elbv2 {
namespace {

std::string attribute(const json& attributes, const std::string& key) {
  for (const auto& a : attributes)
    if (a["Key"] == key) return a["Value"];
  return "<absent>";
}

using LoadBalancersTest = Elbv2Test;

TEST_F(LoadBalancersTest, CreateApplicationLoadBalancerFillsTheAwsShape) {
  json lb = create_alb("web");
  EXPECT_TRUE(std::regex_match(lb["LoadBalancerArn"].get<std::string>(),
                               std::regex("arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/"
                                          "[0-9a-f]{16}")));
  EXPECT_TRUE(std::regex_match(lb["DNSName"].get<std::string>(),
                               std::regex(R"(web-[0-9]{10}\.us-east-1\.elb\.localhost)")));
  EXPECT_EQ(lb["LoadBalancerName"], "web");
  EXPECT_EQ(lb["Scheme"], "internet-facing");
  EXPECT_EQ(lb["Type"], "application");
  EXPECT_EQ(lb["IpAddressType"], "ipv4");
  EXPECT_EQ(lb["State"]["Code"], "active");
  EXPECT_EQ(lb["VpcId"], vpc_);
  EXPECT_EQ(lb["CreatedTime"], kNow);
  EXPECT_EQ(lb["CanonicalHostedZoneId"].get<std::string>().front(), 'Z');
  ASSERT_EQ(lb["AvailabilityZones"].size(), 2u);
  EXPECT_EQ(lb["AvailabilityZones"][0]["SubnetId"], subnets_[0]);
  EXPECT_EQ(lb["AvailabilityZones"][0]["ZoneName"], zones_[0]);
  EXPECT_EQ(lb["AvailabilityZones"][1]["ZoneName"], zones_[1]);
  // An ALB without security groups gets the VPC's default group.
  ASSERT_EQ(lb["SecurityGroups"].size(), 1u);
  EXPECT_EQ(lb["SecurityGroups"][0].get<std::string>().rfind("sg-", 0), 0u);
}

TEST_F(LoadBalancersTest, InternalSchemePrefixesTheDnsName) {
  json lb = create_alb("api", {{"Scheme", "internal"}});
  EXPECT_EQ(lb["Scheme"], "internal");
  EXPECT_EQ(lb["DNSName"].get<std::string>().rfind("internal-api-", 0), 0u);
}

TEST_F(LoadBalancersTest, NetworkLoadBalancerTakesOneSubnetAndNoSecurityGroups) {
  json lb = create_nlb("tcp");
  EXPECT_EQ(lb["Type"], "network");
  EXPECT_NE(lb["LoadBalancerArn"].get<std::string>().find(":loadbalancer/net/tcp/"), std::string::npos);
  EXPECT_EQ(lb["AvailabilityZones"].size(), 1u);
  EXPECT_FALSE(lb.contains("SecurityGroups"));
}

TEST_F(LoadBalancersTest, CreatingTheSameLoadBalancerAgainReturnsIt) {
  json first = create_alb("web");
  json again = create_alb("web");
  EXPECT_EQ(again["LoadBalancerArn"], first["LoadBalancerArn"]);
  EXPECT_EQ(again["DNSName"], first["DNSName"]);
}

TEST_F(LoadBalancersTest, SameNameWithOtherSettingsIsDuplicateLoadBalancerName) {
  create_alb("web");
  auto e = api_error([&] { create_alb("web", {{"Scheme", "internal"}}); });
  EXPECT_EQ(e.code, "DuplicateLoadBalancerName");
}

TEST_F(LoadBalancersTest, ApplicationLoadBalancerNeedsTwoZones) {
  auto e = api_error(
      [&] { create_load_balancer(ctx_, {{"Name", "one"}, {"Subnets", json::array({subnets_[0]})}}); });
  EXPECT_EQ(e.code, "ValidationError");
  EXPECT_NE(std::string(e.what()).find("two different Availability Zones"), std::string::npos);
  e = api_error([&] { create_load_balancer(ctx_, {{"Name", "none"}}); });
  EXPECT_EQ(e.code, "ValidationError");
}

TEST_F(LoadBalancersTest, UnknownSubnetIsSubnetNotFound) {
  auto e = api_error([&] {
    create_load_balancer(ctx_, {{"Name", "x"}, {"Subnets", json::array({subnets_[0], "subnet-00000000000000000"})}});
  });
  EXPECT_EQ(e.code, "SubnetNotFound");
}

TEST_F(LoadBalancersTest, TwoSubnetsInOneZoneAreRefused) {
  auto e = api_error([&] {
    create_load_balancer(ctx_, {{"Name", "x"}, {"Subnets", json::array({subnets_[0], subnets_[0]})}});
  });
  EXPECT_EQ(e.code, "InvalidConfigurationRequest");
}

TEST_F(LoadBalancersTest, UnknownSecurityGroupIsInvalidSecurityGroup) {
  auto e = api_error([&] { create_alb("x", {{"SecurityGroups", json::array({"sg-0000000000000000f"})}}); });
  EXPECT_EQ(e.code, "InvalidSecurityGroup");
}

TEST_F(LoadBalancersTest, NamesFollowElbRules) {
  for (const char* bad : {"-web", "web-", "we_b", "internal-web", "a23456789012345678901234567890123"}) {
    auto e = api_error([&] { create_alb(bad); });
    EXPECT_EQ(e.code, "ValidationError") << bad;
  }
}

TEST_F(LoadBalancersTest, SubnetMappingsWork) {
  json lb = create_load_balancer(ctx_, {{"Name", "mapped"},
                                        {"Type", "network"},
                                        {"SubnetMappings", json::array({{{"SubnetId", subnets_[1]},
                                                                          {"PrivateIPv4Address", "172.31.16.10"}}})}})
                ["LoadBalancers"][0];
  EXPECT_EQ(lb["AvailabilityZones"][0]["SubnetId"], subnets_[1]);
  EXPECT_EQ(lb["AvailabilityZones"][0]["LoadBalancerAddresses"][0]["PrivateIPv4Address"], "172.31.16.10");
}

TEST_F(LoadBalancersTest, DescribeByNamesArnsAndAll) {
  json a = create_alb("alpha"), b = create_alb("beta");
  json out = describe_load_balancers(ctx_, json::object());
  ASSERT_EQ(out["LoadBalancers"].size(), 2u);
  EXPECT_FALSE(out.contains("NextMarker"));
  out = describe_load_balancers(ctx_, {{"Names", json::array({"beta"})}});
  ASSERT_EQ(out["LoadBalancers"].size(), 1u);
  EXPECT_EQ(out["LoadBalancers"][0]["LoadBalancerArn"], b["LoadBalancerArn"]);
  out = describe_load_balancers(ctx_, {{"LoadBalancerArns", json::array({a["LoadBalancerArn"]})}});
  EXPECT_EQ(out["LoadBalancers"][0]["LoadBalancerName"], "alpha");
}

TEST_F(LoadBalancersTest, DescribeUnknownNameIsLoadBalancerNotFound) {
  create_alb("alpha");
  auto e = api_error([&] { describe_load_balancers(ctx_, {{"Names", json::array({"alpha", "nope"})}}); });
  EXPECT_EQ(e.code, "LoadBalancerNotFound");
  EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  e = api_error([&] { describe_load_balancers(ctx_, {{"Names", json::array({"a"})}, {"LoadBalancerArns", json::array({"b"})}}); });
  EXPECT_EQ(e.code, "ValidationError");
}

TEST_F(LoadBalancersTest, OtherRegionDoesNotSeeTheLoadBalancer) {
  json lb = create_alb("alpha");
  RequestContext other{{kAccount, "eu-west-1"}, "AKIDEXAMPLE", "req-2", store_, kNow};
  EXPECT_TRUE(describe_load_balancers(other, json::object())["LoadBalancers"].empty());
  auto e = api_error(
      [&] { describe_load_balancers(other, {{"LoadBalancerArns", json::array({lb["LoadBalancerArn"]})}}); });
  EXPECT_EQ(e.code, "LoadBalancerNotFound");
}

TEST_F(LoadBalancersTest, PagesWithMarkerAndPageSize) {
  std::set<std::string> names;
  for (int i = 0; i < 5; ++i) names.insert(create_alb("lb-" + std::to_string(i))["LoadBalancerName"].get<std::string>());
  std::set<std::string> seen;
  json in = {{"PageSize", 2}};
  int pages = 0;
  while (true) {
    json out = describe_load_balancers(ctx_, in);
    ++pages;
    EXPECT_LE(out["LoadBalancers"].size(), 2u);
    for (const auto& lb : out["LoadBalancers"]) EXPECT_TRUE(seen.insert(lb["LoadBalancerName"].get<std::string>()).second);
    if (!out.contains("NextMarker")) break;
    in["Marker"] = out["NextMarker"];
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, names);
  auto e = api_error([&] { describe_load_balancers(ctx_, {{"Marker", "garbage"}}); });
  EXPECT_EQ(e.code, "ValidationError");
}

TEST_F(LoadBalancersTest, AttributesHaveAwsDefaults) {
  json lb = create_alb("web");
  json attrs = describe_load_balancer_attributes(ctx_, {{"LoadBalancerArn", lb["LoadBalancerArn"]}})["Attributes"];
  EXPECT_EQ(attribute(attrs, "deletion_protection.enabled"), "false");
  EXPECT_EQ(attribute(attrs, "idle_timeout.timeout_seconds"), "60");
  EXPECT_EQ(attribute(attrs, "routing.http2.enabled"), "true");
  EXPECT_EQ(attribute(attrs, "access_logs.s3.enabled"), "false");
  EXPECT_EQ(attribute(attrs, "routing.http.xff_header_processing.mode"), "append");
  json nlb = create_nlb("tcp");
  attrs = describe_load_balancer_attributes(ctx_, {{"LoadBalancerArn", nlb["LoadBalancerArn"]}})["Attributes"];
  EXPECT_EQ(attribute(attrs, "load_balancing.cross_zone.enabled"), "false");
  EXPECT_EQ(attribute(attrs, "idle_timeout.timeout_seconds"), "<absent>");
}

TEST_F(LoadBalancersTest, ModifyAttributesChecksKeysAndValues) {
  std::string arn = create_alb("web")["LoadBalancerArn"];
  json out = modify_load_balancer_attributes(
      ctx_, {{"LoadBalancerArn", arn},
             {"Attributes", json::array({{{"Key", "idle_timeout.timeout_seconds"}, {"Value", "120"}}})}});
  EXPECT_EQ(attribute(out["Attributes"], "idle_timeout.timeout_seconds"), "120");
  EXPECT_EQ(attribute(out["Attributes"], "routing.http2.enabled"), "true");
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"no.such.key", "1"}, {"idle_timeout.timeout_seconds", "0"}, {"routing.http2.enabled", "yes"},
           {"routing.http.desync_mitigation_mode", "lenient"}}) {
    auto e = api_error([&] {
      modify_load_balancer_attributes(ctx_, {{"LoadBalancerArn", arn},
                                             {"Attributes", json::array({{{"Key", k}, {"Value", v}}})}});
    });
    EXPECT_EQ(e.code, "ValidationError") << k << "=" << v;
  }
  // A failed modify changes nothing.
  json attrs = describe_load_balancer_attributes(ctx_, {{"LoadBalancerArn", arn}})["Attributes"];
  EXPECT_EQ(attribute(attrs, "idle_timeout.timeout_seconds"), "120");
}

TEST_F(LoadBalancersTest, DeletionProtectionBlocksDelete) {
  std::string arn = create_alb("web")["LoadBalancerArn"];
  modify_load_balancer_attributes(
      ctx_, {{"LoadBalancerArn", arn},
             {"Attributes", json::array({{{"Key", "deletion_protection.enabled"}, {"Value", "true"}}})}});
  EXPECT_EQ(api_error([&] { delete_load_balancer(ctx_, {{"LoadBalancerArn", arn}}); }).code, "OperationNotPermitted");
  modify_load_balancer_attributes(
      ctx_, {{"LoadBalancerArn", arn},
             {"Attributes", json::array({{{"Key", "deletion_protection.enabled"}, {"Value", "false"}}})}});
  delete_load_balancer(ctx_, {{"LoadBalancerArn", arn}});
  EXPECT_TRUE(describe_load_balancers(ctx_, json::object())["LoadBalancers"].empty());
}

TEST_F(LoadBalancersTest, DeleteRemovesListenersRulesAndTagsAndFreesTargetGroups) {
  json lb = create_alb("web", {{"Tags", json::array({{{"Key", "team"}, {"Value", "a"}}})}});
  std::string tg = create_tg("web-tg", "HTTP", 80, {{"TargetType", "ip"}})["TargetGroupArn"];
  json listener = create_http_listener(lb["LoadBalancerArn"], tg);
  json rule = path_rule(listener["ListenerArn"], 10, "/api/*", tg);
  register_targets(ctx_, {{"TargetGroupArn", tg}, {"Targets", json::array({{{"Id", "10.0.0.1"}}})}});
  EXPECT_EQ(api_error([&] { delete_target_group(ctx_, {{"TargetGroupArn", tg}}); }).code, "ResourceInUse");

  delete_load_balancer(ctx_, {{"LoadBalancerArn", lb["LoadBalancerArn"]}});
  EXPECT_EQ(api_error([&] { describe_listeners(ctx_, {{"ListenerArns", json::array({listener["ListenerArn"]})}}); }).code,
            "ListenerNotFound");
  EXPECT_EQ(api_error([&] { describe_rules(ctx_, {{"RuleArns", json::array({rule["RuleArn"]})}}); }).code,
            "RuleNotFound");
  store_.read([&](store::Db& db) {
    store::TagRepo tags(db);
    EXPECT_TRUE(tags.get(lb["LoadBalancerArn"].get<std::string>()).empty());
  });
  json health = describe_target_health(ctx_, {{"TargetGroupArn", tg}})["TargetHealthDescriptions"];
  ASSERT_EQ(health.size(), 1u);
  EXPECT_EQ(health[0]["TargetHealth"]["State"], "unused");
  json groups = describe_target_groups(ctx_, {{"TargetGroupArns", json::array({tg})}})["TargetGroups"];
  EXPECT_TRUE(groups[0]["LoadBalancerArns"].empty());
  delete_target_group(ctx_, {{"TargetGroupArn", tg}});
}

TEST_F(LoadBalancersTest, DeletingAMissingLoadBalancerSucceeds) {
  std::string arn = create_alb("web")["LoadBalancerArn"];
  delete_load_balancer(ctx_, {{"LoadBalancerArn", arn}});
  EXPECT_NO_THROW(delete_load_balancer(ctx_, {{"LoadBalancerArn", arn}}));
}

TEST_F(LoadBalancersTest, ChangesAreAnnouncedToTheDataPlane) {
  std::vector<std::string> keys;
  ctx_.notify = [&](const std::string& k) { keys.push_back(k); };
  std::string arn = create_alb("web")["LoadBalancerArn"];
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0], "load-balancer:" + arn);
}

}  // namespace
}  // namespace ecsd::services::elbv2
