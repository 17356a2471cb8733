// Tests for the EC2 security group handlers, called directly.
#include "ec2_fixture.hpp"

namespace ecsd::services::ec2 {
namespace {

using Ec2SecurityGroupsTest = Ec2Test;

json tcp(int from, int to, const std::string& cidr) {
  return {{"IpProtocol", "tcp"}, {"FromPort", from}, {"ToPort", to}, {"IpRanges", {{{"CidrIp", cidr}}}}};
}

json describe_group(RequestContext& ctx, const std::string& id) {
  return describe_security_groups(ctx, {{"GroupIds", {id}}})["SecurityGroups"][0];
}

TEST_F(Ec2SecurityGroupsTest, DefaultGroupAllowsItselfInAndEverythingOut) {
  json g = describe_group(ctx_, default_group());
  EXPECT_EQ(g["GroupName"], "default");
  EXPECT_EQ(g["Description"], "default VPC security group");
  EXPECT_EQ(g["VpcId"], default_vpc());
  ASSERT_EQ(g["IpPermissions"].size(), 1u);
  EXPECT_EQ(g["IpPermissions"][0]["IpProtocol"], "-1");
  EXPECT_FALSE(g["IpPermissions"][0].contains("FromPort"));
  EXPECT_EQ(g["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"], g["GroupId"]);
  EXPECT_EQ(g["IpPermissions"][0]["UserIdGroupPairs"][0]["UserId"], kAccount);
  ASSERT_EQ(g["IpPermissionsEgress"].size(), 1u);
  EXPECT_EQ(g["IpPermissionsEgress"][0]["IpRanges"][0]["CidrIp"], "0.0.0.0/0");
}

TEST_F(Ec2SecurityGroupsTest, CreateInTheDefaultVpcWithOnlyAnEgressRule) {
  json out = create_security_group(
      ctx_,
      {{"GroupName", "web"},
       {"Description", "web tier"},
       {"TagSpecifications", {{{"ResourceType", "security-group"}, {"Tags", {{{"Key", "app"}, {"Value", "w"}}}}}}}});
  std::string id = out["GroupId"];
  EXPECT_EQ(id.rfind("sg-0", 0), 0u);
  EXPECT_EQ(out["SecurityGroupArn"], "arn:aws:ec2:us-east-1:000000000000:security-group/" + id);
  EXPECT_EQ(out["Tags"][0]["Value"], "w");
  json g = describe_group(ctx_, id);
  EXPECT_EQ(g["VpcId"], default_vpc());
  EXPECT_TRUE(g["IpPermissions"].empty());
  EXPECT_EQ(g["IpPermissionsEgress"].size(), 1u);
  EXPECT_EQ(g["Tags"][0]["Key"], "app");
}

TEST_F(Ec2SecurityGroupsTest, NamesAreUniquePerVpcAndDefaultIsReserved) {
  create_group("web");
  auto dup = api_error([&] { create_group("web"); });
  EXPECT_EQ(dup.code, "InvalidGroup.Duplicate");
  EXPECT_STREQ(dup.what(), ("The security group 'web' already exists for VPC '" + default_vpc() + "'").c_str());
  create_group("web", create_vpc_with("10.0.0.0/16"));  // another VPC: fine
  EXPECT_EQ(api_error([&] { create_group("default"); }).code, "InvalidGroup.Reserved");
  EXPECT_EQ(api_error([&] { create_group("sg-web"); }).code, "InvalidParameterValue");
  EXPECT_EQ(api_error([&] { create_group("x", "vpc-0000000000000000a"); }).code, "InvalidVpcID.NotFound");
}

TEST_F(Ec2SecurityGroupsTest, AuthorizeIngressGroupsRulesIntoPermissions) {
  std::string web = create_group("web");
  json out = authorize_security_group_ingress(
      ctx_, {{"GroupId", web},
             {"IpPermissions", {tcp(80, 80, "0.0.0.0/0"), tcp(443, 443, "0.0.0.0/0"), tcp(80, 80, "10.0.0.0/8")}}});
  EXPECT_EQ(out["Return"], true);
  ASSERT_EQ(out["SecurityGroupRules"].size(), 3u);
  const json& rule = out["SecurityGroupRules"][0];
  EXPECT_EQ(rule["GroupId"], web);
  EXPECT_EQ(rule["IsEgress"], false);
  EXPECT_EQ(rule["IpProtocol"], "tcp");
  EXPECT_EQ(rule["FromPort"], 80);
  EXPECT_EQ(rule["CidrIpv4"], "0.0.0.0/0");
  EXPECT_EQ(rule["GroupOwnerId"], kAccount);
  EXPECT_EQ(rule["SecurityGroupRuleId"].get<std::string>().rfind("sgr-", 0), 0u);
  json perms = describe_group(ctx_, web)["IpPermissions"];
  ASSERT_EQ(perms.size(), 2u);
  EXPECT_EQ(perms[0]["FromPort"], 80);
  EXPECT_EQ(perms[0]["IpRanges"].size(), 2u);
  EXPECT_EQ(perms[1]["FromPort"], 443);
}

TEST_F(Ec2SecurityGroupsTest, SimpleFormAndProtocolNumbers) {
  std::string web = create_group("web");
  // The flat members (IpProtocol/FromPort/ToPort/CidrIp) older clients send.
  authorize_security_group_ingress(
      ctx_, {{"GroupName", "web"}, {"IpProtocol", "6"}, {"FromPort", 22}, {"ToPort", 22}, {"CidrIp", "10.0.0.0/8"}});
  // aws-cli's --port all sends -1/-1, which for TCP means every port.
  authorize_security_group_ingress(
      ctx_,
      {{"GroupId", web},
       {"IpPermissions",
        {{{"IpProtocol", "udp"}, {"FromPort", -1}, {"ToPort", -1}, {"IpRanges", {{{"CidrIp", "10.1.0.0/16"}}}}}}}});
  authorize_security_group_ingress(
      ctx_,
      {{"GroupId", web}, {"IpPermissions", {{{"IpProtocol", "icmp"}, {"IpRanges", {{{"CidrIp", "0.0.0.0/0"}}}}}}}});
  json perms = describe_group(ctx_, web)["IpPermissions"];
  ASSERT_EQ(perms.size(), 3u);
  EXPECT_EQ(perms[0]["IpProtocol"], "tcp");
  EXPECT_EQ(perms[0]["FromPort"], 22);
  EXPECT_EQ(perms[1]["IpProtocol"], "udp");
  EXPECT_EQ(perms[1]["FromPort"], 0);
  EXPECT_EQ(perms[1]["ToPort"], 65535);
  EXPECT_EQ(perms[2]["IpProtocol"], "icmp");
  EXPECT_EQ(perms[2]["FromPort"], -1);
}

TEST_F(Ec2SecurityGroupsTest, AuthorizeRejectsDuplicatesBadInputAndMissingPeers) {
  std::string web = create_group("web");
  authorize_security_group_ingress(ctx_, {{"GroupId", web}, {"IpPermissions", {tcp(80, 80, "0.0.0.0/0")}}});
  auto dup = api_error([&] {
    authorize_security_group_ingress(ctx_, {{"GroupId", web}, {"IpPermissions", {tcp(80, 80, "0.0.0.0/0")}}});
  });
  EXPECT_EQ(dup.code, "InvalidPermission.Duplicate");
  EXPECT_STREQ(dup.what(),
               "the specified rule \"peer: 0.0.0.0/0, TCP, from port: 80, to port: 80, ALLOW\" already exists");
  EXPECT_EQ(api_error([&] {
              authorize_security_group_ingress(ctx_, {{"GroupId", web}, {"IpPermissions", {tcp(90, 80, "0.0.0.0/0")}}});
            }).code,
            "InvalidParameterValue");
  EXPECT_EQ(api_error([&] {
              authorize_security_group_ingress(ctx_, {{"GroupId", web}, {"IpPermissions", {tcp(80, 80, "0.0.0/0")}}});
            }).code,
            "InvalidParameterValue");
  EXPECT_EQ(api_error([&] {
              authorize_security_group_ingress(
                  ctx_, {{"GroupId", web},
                         {"IpPermissions", {{{"IpProtocol", "tcpx"}, {"IpRanges", {{{"CidrIp", "1.0.0.0/8"}}}}}}}});
            }).code,
            "InvalidParameterValue");
  EXPECT_EQ(api_error([&] {
              authorize_security_group_ingress(
                  ctx_,
                  {{"GroupId", web}, {"IpPermissions", {{{"IpProtocol", "tcp"}, {"FromPort", 1}, {"ToPort", 2}}}}});
            }).code,
            "MissingParameter");
  EXPECT_EQ(api_error([&] {
              authorize_security_group_ingress(
                  ctx_, {{"GroupId", "sg-0000000000000000a"}, {"IpPermissions", {tcp(80, 80, "0.0.0.0/0")}}});
            }).code,
            "InvalidGroup.NotFound");
}

TEST_F(Ec2SecurityGroupsTest, SourceGroupsByIdOrNameInTheSameVpc) {
  std::string lb = create_group("lb");
  std::string app = create_group("app");
  json by_name = {
      {"IpProtocol", "tcp"}, {"FromPort", 8080}, {"ToPort", 8080}, {"UserIdGroupPairs", {{{"GroupName", "lb"}}}}};
  json out = authorize_security_group_ingress(ctx_, {{"GroupId", app}, {"IpPermissions", {by_name}}});
  EXPECT_EQ(out["SecurityGroupRules"][0]["ReferencedGroupInfo"]["GroupId"], lb);
  json pair = describe_group(ctx_, app)["IpPermissions"][0]["UserIdGroupPairs"][0];
  EXPECT_EQ(pair["GroupId"], lb);
  EXPECT_EQ(pair["UserId"], kAccount);
  // Filters on the peer group's id and name.
  json found =
      describe_security_groups(ctx_, {{"Filters", filter("ip-permission.group-name", {"lb"})}})["SecurityGroups"];
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["GroupId"], app);
  // A group of another VPC cannot be a peer.
  std::string other = create_group("other", create_vpc_with("10.0.0.0/16"));
  json cross = {{"IpProtocol", "tcp"}, {"FromPort", 1}, {"ToPort", 1}, {"UserIdGroupPairs", {{{"GroupId", other}}}}};
  EXPECT_EQ(api_error([&] {
              authorize_security_group_ingress(ctx_, {{"GroupId", app}, {"IpPermissions", {cross}}});
            }).code,
            "InvalidGroup.NotFound");
  // A referenced group cannot be deleted.
  auto e = api_error([&] { delete_security_group(ctx_, {{"GroupId", lb}}); });
  EXPECT_EQ(e.code, "DependencyViolation");
  EXPECT_STREQ(e.what(), ("resource " + lb + " has a dependent object").c_str());
}

TEST_F(Ec2SecurityGroupsTest, RevokeByPermissionOrRuleId) {
  std::string web = create_group("web");
  json rules = authorize_security_group_ingress(
      ctx_, {{"GroupId", web},
             {"IpPermissions", {tcp(80, 80, "0.0.0.0/0"), tcp(443, 443, "0.0.0.0/0")}}})["SecurityGroupRules"];
  json out = revoke_security_group_ingress(ctx_, {{"GroupId", web}, {"IpPermissions", {tcp(80, 80, "0.0.0.0/0")}}});
  EXPECT_EQ(out["Return"], true);
  ASSERT_EQ(out["RevokedSecurityGroupRules"].size(), 1u);
  EXPECT_EQ(out["RevokedSecurityGroupRules"][0]["SecurityGroupRuleId"], rules[0]["SecurityGroupRuleId"]);
  auto e = api_error([&] {
    revoke_security_group_ingress(ctx_, {{"GroupId", web}, {"IpPermissions", {tcp(80, 80, "0.0.0.0/0")}}});
  });
  EXPECT_EQ(e.code, "InvalidPermission.NotFound");
  // Some known, some not: the unknown ones come back.
  json partial = revoke_security_group_ingress(
      ctx_, {{"GroupId", web}, {"IpPermissions", {tcp(443, 443, "0.0.0.0/0"), tcp(22, 22, "0.0.0.0/0")}}});
  EXPECT_EQ(partial["RevokedSecurityGroupRules"].size(), 1u);
  EXPECT_EQ(partial["UnknownIpPermissions"][0]["FromPort"], 22);
  EXPECT_TRUE(describe_group(ctx_, web)["IpPermissions"].empty());

  std::string egress_rule = describe_security_group_rules(
      ctx_, {{"Filters", filter("group-id", {web})}})["SecurityGroupRules"][0]["SecurityGroupRuleId"];
  EXPECT_EQ(api_error([&] {
              revoke_security_group_ingress(ctx_, {{"GroupId", web}, {"SecurityGroupRuleIds", {egress_rule}}});
            }).code,
            "InvalidSecurityGroupRuleId.NotFound");
  revoke_security_group_egress(ctx_, {{"GroupId", web}, {"SecurityGroupRuleIds", {egress_rule}}});
  EXPECT_TRUE(describe_group(ctx_, web)["IpPermissionsEgress"].empty());
  authorize_security_group_egress(ctx_, {{"GroupId", web}, {"IpPermissions", {tcp(443, 443, "10.0.0.0/8")}}});
  EXPECT_EQ(describe_group(ctx_, web)["IpPermissionsEgress"][0]["ToPort"], 443);
}

TEST_F(Ec2SecurityGroupsTest, DescribeSecurityGroupRulesWithFiltersAndIds) {
  std::string web = create_group("web");
  json created = authorize_security_group_ingress(
      ctx_, {{"GroupId", web},
             {"IpPermissions", {tcp(80, 80, "0.0.0.0/0")}},
             {"TagSpecifications",
              {{{"ResourceType", "security-group-rule"},
                {"Tags", {{{"Key", "k"}, {"Value", "v"}}}}}}}})["SecurityGroupRules"][0];
  json rules = describe_security_group_rules(ctx_, {{"Filters", filter("group-id", {web})}})["SecurityGroupRules"];
  EXPECT_EQ(rules.size(), 2u);  // the default egress rule and the new one
  json one = describe_security_group_rules(
      ctx_, {{"SecurityGroupRuleIds", {created["SecurityGroupRuleId"]}}})["SecurityGroupRules"];
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["Tags"][0]["Value"], "v");
  EXPECT_EQ(describe_security_group_rules(ctx_, {{"Filters", filter("tag:k", {"v"})}})["SecurityGroupRules"].size(),
            1u);
  EXPECT_EQ(api_error([&] {
              describe_security_group_rules(ctx_, {{"SecurityGroupRuleIds", {"sgr-0000000000000000a"}}});
            }).code,
            "InvalidSecurityGroupRuleId.NotFound");
}

TEST_F(Ec2SecurityGroupsTest, DescribeByNamesIdsAndFilters) {
  std::string web = create_group("web");
  authorize_security_group_ingress(ctx_, {{"GroupId", web}, {"IpPermissions", {tcp(80, 80, "0.0.0.0/0")}}});
  EXPECT_EQ(describe_security_groups(ctx_, {{"GroupNames", {"web"}}})["SecurityGroups"][0]["GroupId"], web);
  auto missing = api_error([&] { describe_security_groups(ctx_, {{"GroupNames", {"nope"}}}); });
  EXPECT_EQ(missing.code, "InvalidGroup.NotFound");
  EXPECT_EQ(api_error([&] {
              describe_security_groups(ctx_, {{"GroupIds", {"sg-0000000000000000a"}}});
            }).code,
            "InvalidGroup.NotFound");
  EXPECT_EQ(describe_security_groups(ctx_, json::object())["SecurityGroups"].size(), 2u);
  auto by = [&](const std::string& name, const std::string& value) {
    return describe_security_groups(ctx_, {{"Filters", filter(name, {value})}})["SecurityGroups"].size();
  };
  EXPECT_EQ(by("group-name", "w*"), 1u);
  EXPECT_EQ(by("description", "web group"), 1u);
  EXPECT_EQ(by("ip-permission.from-port", "80"), 1u);
  EXPECT_EQ(by("ip-permission.cidr", "0.0.0.0/0"), 1u);
  EXPECT_EQ(by("ip-permission.protocol", "tcp"), 1u);
  EXPECT_EQ(by("egress.ip-permission.cidr", "0.0.0.0/0"), 2u);
  EXPECT_EQ(by("owner-id", kAccount), 2u);
  EXPECT_EQ(by("vpc-id", default_vpc()), 2u);
}

TEST_F(Ec2SecurityGroupsTest, DeleteByIdOrNameButNeverTheDefaultGroup) {
  std::string web = create_group("web");
  create_group("db");
  EXPECT_EQ(delete_security_group(ctx_, {{"GroupId", web}})["GroupId"], web);
  EXPECT_EQ(delete_security_group(ctx_, {{"GroupName", "db"}})["Return"], true);
  EXPECT_EQ(api_error([&] { delete_security_group(ctx_, {{"GroupId", web}}); }).code, "InvalidGroup.NotFound");
  auto e = api_error([&] { delete_security_group(ctx_, {{"GroupId", default_group()}}); });
  EXPECT_EQ(e.code, "CannotDelete");
  EXPECT_EQ(api_error([&] { delete_security_group(ctx_, json::object()); }).code, "MissingParameter");
}

TEST_F(Ec2SecurityGroupsTest, GroupOfARunningTaskIsInUseUntilTheTaskStops) {
  std::string web = create_group("web");
  std::string task = add_awsvpc_task(default_subnets()[0]["SubnetId"], {web}, "PRECREATED", "PROVISIONING");
  EXPECT_EQ(api_error([&] { delete_security_group(ctx_, {{"GroupId", web}}); }).code, "DependencyViolation");
  stop_task(task);
  delete_security_group(ctx_, {{"GroupId", web}});
}

}  // namespace
}  // namespace ecsd::services::ec2
