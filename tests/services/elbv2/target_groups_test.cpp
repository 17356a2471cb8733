// Tests for the ELBv2 target group handlers (Create/Describe/Modify/DeleteTargetGroup and the
// target group attributes), called directly on an in-memory store.
#include <set>

#include "elbv2_fixture.hpp"

#include "ecsd/domain/networking.hpp"

namespace ecsd::services::elbv2 {
namespace {

std::string attribute(const json& attributes, const std::string& key) {
  for (const auto& a : attributes)
    if (a["Key"] == key) return a["Value"];
  return "<absent>";
}

using TargetGroupsTest = Elbv2Test;

TEST_F(TargetGroupsTest, HttpTargetGroupGetsAlbHealthCheckDefaults) {
  json tg = create_tg("web");
  EXPECT_EQ(tg["TargetGroupArn"].get<std::string>().rfind(
                "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/", 0),
            0u);
  EXPECT_EQ(tg["TargetGroupName"], "web");
  EXPECT_EQ(tg["Protocol"], "HTTP");
  EXPECT_EQ(tg["ProtocolVersion"], "HTTP1");
  EXPECT_EQ(tg["Port"], 80);
  EXPECT_EQ(tg["VpcId"], vpc_);
  EXPECT_EQ(tg["TargetType"], "instance");
  EXPECT_EQ(tg["IpAddressType"], "ipv4");
  EXPECT_EQ(tg["HealthCheckProtocol"], "HTTP");
  EXPECT_EQ(tg["HealthCheckPort"], "traffic-port");
  EXPECT_EQ(tg["HealthCheckEnabled"], true);
  EXPECT_EQ(tg["HealthCheckPath"], "/");
  EXPECT_EQ(tg["HealthCheckIntervalSeconds"], 30);
  EXPECT_EQ(tg["HealthCheckTimeoutSeconds"], 5);
  EXPECT_EQ(tg["HealthyThresholdCount"], 5);
  EXPECT_EQ(tg["UnhealthyThresholdCount"], 2);
  EXPECT_EQ(tg["Matcher"]["HttpCode"], "200");
  EXPECT_TRUE(tg["LoadBalancerArns"].empty());
}

TEST_F(TargetGroupsTest, TcpTargetGroupGetsNlbHealthCheckDefaults) {
  json tg = create_tg("tcp", "TCP", 5432, {{"TargetType", "ip"}});
  EXPECT_EQ(tg["HealthCheckProtocol"], "TCP");
  EXPECT_EQ(tg["HealthCheckTimeoutSeconds"], 10);
  EXPECT_FALSE(tg.contains("HealthCheckPath"));
  EXPECT_FALSE(tg.contains("Matcher"));
  EXPECT_FALSE(tg.contains("ProtocolVersion"));
  json http_checked = create_tg("tcp-http", "TCP", 5432, {{"HealthCheckProtocol", "HTTP"}});
  EXPECT_EQ(http_checked["HealthCheckTimeoutSeconds"], 6);
  EXPECT_EQ(http_checked["HealthCheckPath"], "/");
  EXPECT_EQ(http_checked["Matcher"]["HttpCode"], "200-399");
}

TEST_F(TargetGroupsTest, LambdaTargetGroupHasNoPortAndChecksOff) {
  json tg = create_target_group(ctx_, {{"Name", "fn"}, {"TargetType", "lambda"}})["TargetGroups"][0];
  EXPECT_FALSE(tg.contains("Port"));
  EXPECT_FALSE(tg.contains("Protocol"));
  EXPECT_EQ(tg["HealthCheckEnabled"], false);
  EXPECT_EQ(tg["HealthCheckIntervalSeconds"], 35);
  EXPECT_EQ(tg["HealthCheckTimeoutSeconds"], 30);
  auto e = api_error(
      [&] { create_target_group(ctx_, {{"Name", "fn2"}, {"TargetType", "lambda"}, {"Port", 80}}); });
  EXPECT_EQ(e.code, "ValidationError");
}

TEST_F(TargetGroupsTest, InstanceTargetGroupNeedsProtocolPortAndVpc) {
  auto e = api_error([&] { create_target_group(ctx_, {{"Name", "x"}, {"Protocol", "HTTP"}, {"Port", 80}}); });
  EXPECT_EQ(e.code, "ValidationError");
  EXPECT_STREQ(e.what(), "A VPC ID must be specified");
  e = api_error([&] { create_target_group(ctx_, {{"Name", "x"}, {"Port", 80}, {"VpcId", vpc_}}); });
  EXPECT_STREQ(e.what(), "A protocol must be specified");
  e = api_error(
      [&] { create_target_group(ctx_, {{"Name", "x"}, {"Protocol", "HTTP"}, {"Port", 80}, {"VpcId", "vpc-123"}}); });
  EXPECT_EQ(e.code, "ValidationError");
  EXPECT_STREQ(e.what(), "The VPC ID 'vpc-123' is not found");
}

TEST_F(TargetGroupsTest, SameNameSameSettingsIsIdempotentOtherSettingsDuplicate) {
  json first = create_tg("web");
  EXPECT_EQ(create_tg("web")["TargetGroupArn"], first["TargetGroupArn"]);
  auto e = api_error([&] { create_tg("web", "HTTP", 8080); });
  EXPECT_EQ(e.code, "DuplicateTargetGroupName");
}

TEST_F(TargetGroupsTest, HealthCheckSettingsAreChecked) {
  auto code = [&](const json& extra, const std::string& protocol = "HTTP") {
    return api_error([&] { create_tg("bad", protocol, 80, extra); }).code;
  };
  EXPECT_EQ(code({{"HealthCheckIntervalSeconds", 10}, {"HealthCheckTimeoutSeconds", 10}}), "ValidationError");
  EXPECT_EQ(code({{"HealthCheckEnabled", false}}), "ValidationError");
  EXPECT_EQ(code({{"HealthCheckProtocol", "TCP"}}), "ValidationError");
  EXPECT_EQ(code({{"HealthCheckPath", "health"}}), "ValidationError");
  EXPECT_EQ(code({{"HealthCheckPort", "70000"}}), "ValidationError");
  EXPECT_EQ(code({{"Matcher", {{"HttpCode", "2xx"}}}}), "ValidationError");
  EXPECT_EQ(code({{"HealthCheckPath", "/health"}}, "TCP"), "InvalidConfigurationRequest");
  EXPECT_EQ(code(json::object(), "UDP"), "InvalidConfigurationRequest");
  json ok = create_tg("ok", "HTTP", 80,
                      {{"HealthCheckPath", "/health"}, {"Matcher", {{"HttpCode", "200-299,301"}}},
                       {"HealthCheckPort", "8081"}, {"HealthCheckIntervalSeconds", 10},
                       {"HealthCheckTimeoutSeconds", 2}, {"HealthyThresholdCount", 2}});
  EXPECT_EQ(ok["HealthCheckPath"], "/health");
  EXPECT_EQ(ok["Matcher"]["HttpCode"], "200-299,301");
  EXPECT_EQ(ok["HealthCheckPort"], "8081");
}

TEST_F(TargetGroupsTest, DescribeFiltersAreExclusiveAndStrict) {
  json a = create_tg("a"), b = create_tg("b");
  EXPECT_EQ(describe_target_groups(ctx_, json::object())["TargetGroups"].size(), 2u);
  json out = describe_target_groups(ctx_, {{"Names", json::array({"b"})}});
  EXPECT_EQ(out["TargetGroups"][0]["TargetGroupArn"], b["TargetGroupArn"]);
  EXPECT_EQ(api_error([&] { describe_target_groups(ctx_, {{"Names", json::array({"zz"})}}); }).code,
            "TargetGroupNotFound");
  EXPECT_EQ(api_error([&] {
              describe_target_groups(ctx_, {{"Names", json::array({"a"})}, {"TargetGroupArns", json::array({"x"})}});
            }).code,
            "ValidationError");
}

TEST_F(TargetGroupsTest, DescribeByLoadBalancerListsAttachedGroups) {
  json lb = create_alb("web");
  json a = create_tg("a"), b = create_tg("b");
  create_tg("unattached");
  json listener = create_http_listener(lb["LoadBalancerArn"], a["TargetGroupArn"]);
  path_rule(listener["ListenerArn"], 5, "/b/*", b["TargetGroupArn"]);
  json out = describe_target_groups(ctx_, {{"LoadBalancerArn", lb["LoadBalancerArn"]}});
  ASSERT_EQ(out["TargetGroups"].size(), 2u);
  for (const auto& g : out["TargetGroups"]) EXPECT_EQ(g["LoadBalancerArns"], json::array({lb["LoadBalancerArn"]}));
  EXPECT_EQ(api_error([&] { describe_target_groups(ctx_, {{"LoadBalancerArn", "arn:aws:elasticloadbalancing:us-east-1:"
                                                                             "000000000000:loadbalancer/app/x/1"}}); })
                .code,
            "LoadBalancerNotFound");
}

TEST_F(TargetGroupsTest, ModifyTargetGroupChangesHealthCheck) {
  std::string arn = create_tg("web")["TargetGroupArn"];
  json tg = modify_target_group(ctx_, {{"TargetGroupArn", arn},
                                       {"HealthCheckPath", "/ready"},
                                       {"HealthCheckIntervalSeconds", 5},
                                       {"HealthCheckTimeoutSeconds", 2},
                                       {"Matcher", {{"HttpCode", "204"}}}})["TargetGroups"][0];
  EXPECT_EQ(tg["HealthCheckPath"], "/ready");
  EXPECT_EQ(tg["HealthCheckIntervalSeconds"], 5);
  EXPECT_EQ(tg["Matcher"]["HttpCode"], "204");
  EXPECT_EQ(tg["Port"], 80);
  EXPECT_EQ(api_error([&] { modify_target_group(ctx_, {{"TargetGroupArn", arn}, {"HealthCheckTimeoutSeconds", 5}}); })
                .code,
            "ValidationError");
  json tcp = create_tg("tcp", "TCP", 80);
  tg = modify_target_group(ctx_, {{"TargetGroupArn", tcp["TargetGroupArn"]}, {"HealthCheckProtocol", "HTTP"}})
           ["TargetGroups"][0];
  EXPECT_EQ(tg["HealthCheckPath"], "/");
  EXPECT_EQ(tg["Matcher"]["HttpCode"], "200-399");
  EXPECT_EQ(api_error([&] {
              modify_target_group(ctx_, {{"TargetGroupArn", arn + "0"}, {"HealthCheckPath", "/"}});
            }).code,
            "TargetGroupNotFound");
}

TEST_F(TargetGroupsTest, DeleteTargetGroupInUseIsResourceInUse) {
  json lb = create_alb("web");
  std::string tg = create_tg("web")["TargetGroupArn"];
  json listener = create_http_listener(lb["LoadBalancerArn"], tg);
  auto e = api_error([&] { delete_target_group(ctx_, {{"TargetGroupArn", tg}}); });
  EXPECT_EQ(e.code, "ResourceInUse");
  delete_listener(ctx_, {{"ListenerArn", listener["ListenerArn"]}});
  delete_target_group(ctx_, {{"TargetGroupArn", tg}});
  EXPECT_TRUE(describe_target_groups(ctx_, json::object())["TargetGroups"].empty());
  EXPECT_NO_THROW(delete_target_group(ctx_, {{"TargetGroupArn", tg}}));
}

TEST_F(TargetGroupsTest, AttributeDefaultsDependOnProtocol) {
  std::string http = create_tg("web")["TargetGroupArn"];
  json a = describe_target_group_attributes(ctx_, {{"TargetGroupArn", http}})["Attributes"];
  EXPECT_EQ(attribute(a, "deregistration_delay.timeout_seconds"), "300");
  EXPECT_EQ(attribute(a, "stickiness.enabled"), "false");
  EXPECT_EQ(attribute(a, "stickiness.type"), "lb_cookie");
  EXPECT_EQ(attribute(a, "load_balancing.algorithm.type"), "round_robin");
  EXPECT_EQ(attribute(a, "slow_start.duration_seconds"), "0");
  std::string tcp = create_tg("tcp", "TCP", 80)["TargetGroupArn"];
  a = describe_target_group_attributes(ctx_, {{"TargetGroupArn", tcp}})["Attributes"];
  EXPECT_EQ(attribute(a, "stickiness.type"), "source_ip");
  EXPECT_EQ(attribute(a, "preserve_client_ip.enabled"), "true");
  EXPECT_EQ(attribute(a, "load_balancing.algorithm.type"), "<absent>");
}

TEST_F(TargetGroupsTest, ModifyAttributesChecksCombinations) {
  std::string arn = create_tg("web")["TargetGroupArn"];
  auto modify = [&](std::vector<std::pair<std::string, std::string>> kv) {
    json attrs = json::array();
    for (auto& [k, v] : kv) attrs.push_back({{"Key", k}, {"Value", v}});
    return modify_target_group_attributes(ctx_, {{"TargetGroupArn", arn}, {"Attributes", attrs}})["Attributes"];
  };
  json a = modify({{"deregistration_delay.timeout_seconds", "5"}, {"stickiness.enabled", "true"}});
  EXPECT_EQ(attribute(a, "deregistration_delay.timeout_seconds"), "5");
  EXPECT_EQ(attribute(a, "stickiness.enabled"), "true");
  EXPECT_EQ(api_error([&] { modify({{"deregistration_delay.timeout_seconds", "3601"}}); }).code, "ValidationError");
  EXPECT_EQ(api_error([&] { modify({{"slow_start.duration_seconds", "10"}}); }).code, "ValidationError");
  EXPECT_EQ(api_error([&] {
              modify({{"slow_start.duration_seconds", "60"}, {"load_balancing.algorithm.type", "least_outstanding_requests"}});
            }).code,
            "InvalidConfigurationRequest");
  EXPECT_EQ(api_error([&] { modify({{"stickiness.type", "app_cookie"}}); }).code, "InvalidConfigurationRequest");
  a = modify({{"stickiness.type", "app_cookie"}, {"stickiness.app_cookie.cookie_name", "SESSION"}});
  EXPECT_EQ(attribute(a, "stickiness.app_cookie.cookie_name"), "SESSION");
  EXPECT_EQ(api_error([&] { modify({{"stickiness.type", "source_ip"}}); }).code, "ValidationError");
}

TEST_F(TargetGroupsTest, TargetGroupsCanBeInAnotherVpc) {
  std::string vpc_id = "vpc-0aaaaaaaaaaaaaaaa";
  store_.write([&](store::Db& db) {
    store::VpcRepo(db).insert(ctx_.scope, domain::new_vpc(ctx_.scope, vpc_id, *domain::parse_cidr("10.1.0.0/16"),
                                                           false, kNow));
  });
  json tg = create_target_group(ctx_, {{"Name", "other"}, {"Protocol", "HTTP"}, {"Port", 80}, {"VpcId", vpc_id}})
                ["TargetGroups"][0];
  EXPECT_EQ(tg["VpcId"], vpc_id);
  // ...but a load balancer only forwards to target groups of its own VPC.
  json lb = create_alb("web");
  auto e = api_error([&] { create_http_listener(lb["LoadBalancerArn"], tg["TargetGroupArn"]); });
  EXPECT_EQ(e.code, "InvalidConfigurationRequest");
}

}  // namespace
}  // namespace ecsd::services::elbv2
