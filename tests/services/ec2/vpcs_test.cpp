// Tests for the EC2 VPC, availability zone and account attribute handlers, called directly.
#include "ec2_fixture.hpp"

namespace ecsd::services::ec2 {
namespace {

using Ec2VpcsTest = Ec2Test;

TEST_F(Ec2VpcsTest, EveryScopeHasADefaultVpcLikeANewAccount) {
  json vpcs = describe_vpcs(ctx_, json::object())["Vpcs"];
  ASSERT_EQ(vpcs.size(), 1u);
  const json& v = vpcs[0];
  EXPECT_EQ(v["CidrBlock"], "172.31.0.0/16");
  EXPECT_EQ(v["IsDefault"], true);
  EXPECT_EQ(v["State"], "available");
  EXPECT_EQ(v["OwnerId"], kAccount);
  EXPECT_EQ(v["InstanceTenancy"], "default");
  EXPECT_EQ(v["CidrBlockAssociationSet"][0]["CidrBlockState"]["State"], "associated");
  std::string id = v["VpcId"];
  EXPECT_EQ(id.rfind("vpc-0", 0), 0u);
  EXPECT_EQ(id.size(), 4u + 17u);
  EXPECT_FALSE(v.contains("Tags"));  // AWS leaves tagSet out when there are none
}

TEST_F(Ec2VpcsTest, DefaultVpcIdsAreStablePerScopeAndDifferBetweenScopes) {
  std::string first = default_vpc();
  store_.reset();
  EXPECT_EQ(default_vpc(), first);
  RequestContext west = context("us-west-2");
  std::string other = describe_vpcs(west, json::object())["Vpcs"][0]["VpcId"];
  EXPECT_NE(other, first);
  RequestContext other_account = context("us-east-1", "111111111111");
  EXPECT_NE(describe_vpcs(other_account, json::object())["Vpcs"][0]["VpcId"], first);
}

TEST_F(Ec2VpcsTest, FiltersSelectByIsDefaultCidrAndWildcards) {
  std::string vpc = create_vpc_with("10.0.0.0/16");
  EXPECT_EQ(describe_vpcs(ctx_, {{"Filters", filter("is-default", {"true"})}})["Vpcs"].size(), 1u);
  json mine = describe_vpcs(ctx_, {{"Filters", filter("is-default", {"false"})}})["Vpcs"];
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0]["VpcId"], vpc);
  EXPECT_EQ(describe_vpcs(ctx_, {{"Filters", filter("cidr", {"10.0.*"})}})["Vpcs"][0]["VpcId"], vpc);
  EXPECT_EQ(
      describe_vpcs(ctx_, {{"Filters", filter("cidr-block-association.cidr-block", {"172.31.0.0/1?"})}})["Vpcs"].size(),
      1u);
  EXPECT_EQ(describe_vpcs(ctx_, {{"Filters", filter("state", {"available"})}})["Vpcs"].size(), 2u);
  EXPECT_EQ(describe_vpcs(ctx_, {{"Filters", filter("vpc-id", {"vpc-nope", vpc})}})["Vpcs"].size(), 1u);
}

TEST_F(Ec2VpcsTest, UnknownFilterIsInvalidParameterValue) {
  auto e = api_error([&] { describe_vpcs(ctx_, {{"Filters", filter("colour", {"blue"})}}); });
  EXPECT_EQ(e.code, "InvalidParameterValue");
  EXPECT_STREQ(e.what(), "The filter 'colour' is invalid");
}

TEST_F(Ec2VpcsTest, DescribeByMissingIdIsNotFound) {
  auto e = api_error([&] { describe_vpcs(ctx_, {{"VpcIds", {default_vpc(), "vpc-0123456789abcdef0"}}}); });
  EXPECT_EQ(e.code, "InvalidVpcID.NotFound");
  EXPECT_STREQ(e.what(), "The vpc ID 'vpc-0123456789abcdef0' does not exist");
}

TEST_F(Ec2VpcsTest, CreateVpcAnswersPendingWithTagsAndGetsADefaultGroup) {
  json in = {{"CidrBlock", "10.1.0.0/16"},
             {"TagSpecifications", {{{"ResourceType", "vpc"}, {"Tags", {{{"Key", "Name"}, {"Value", "main"}}}}}}}};
  json v = create_vpc(ctx_, in)["Vpc"];
  EXPECT_EQ(v["State"], "pending");
  EXPECT_EQ(v["IsDefault"], false);
  EXPECT_EQ(v["Tags"], json::parse(R"([{"Key":"Name","Value":"main"}])"));
  json described = describe_vpcs(ctx_, {{"VpcIds", {v["VpcId"]}}})["Vpcs"][0];
  EXPECT_EQ(described["State"], "available");
  EXPECT_EQ(describe_vpcs(ctx_, {{"Filters", filter("tag:Name", {"main"})}})["Vpcs"].size(), 1u);
  json groups = describe_security_groups(ctx_, {{"Filters", filter("vpc-id", {v["VpcId"]})}})["SecurityGroups"];
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0]["GroupName"], "default");
}

TEST_F(Ec2VpcsTest, CreateVpcChecksTheCidr) {
  EXPECT_EQ(api_error([&] { create_vpc(ctx_, {{"CidrBlock", "10.0.0/16"}}); }).code, "InvalidParameterValue");
  EXPECT_EQ(api_error([&] { create_vpc(ctx_, {{"CidrBlock", "10.0.0.1/16"}}); }).code, "InvalidParameterValue");
  auto e = api_error([&] { create_vpc(ctx_, {{"CidrBlock", "10.0.0.0/8"}}); });
  EXPECT_EQ(e.code, "InvalidVpc.Range");
  EXPECT_STREQ(e.what(), "The CIDR '10.0.0.0/8' is invalid.");
  EXPECT_EQ(api_error([&] { create_vpc(ctx_, {{"CidrBlock", "10.0.0.0/29"}}); }).code, "InvalidVpc.Range");
  EXPECT_EQ(api_error([&] { create_vpc(ctx_, json::object()); }).code, "MissingParameter");
  EXPECT_EQ(api_error([&] {
              create_vpc(ctx_, {{"CidrBlock", "10.0.0.0/16"},
                                {"TagSpecifications", {{{"ResourceType", "subnet"}, {"Tags", json::array()}}}}});
            }).code,
            "InvalidParameterValue");
}

TEST_F(Ec2VpcsTest, DeleteVpcWithSubnetsOrGroupsIsADependencyViolation) {
  std::string vpc = create_vpc_with("10.0.0.0/16");
  std::string subnet = create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.0.1.0/24"}})["Subnet"]["SubnetId"];
  auto e = api_error([&] { delete_vpc(ctx_, {{"VpcId", vpc}}); });
  EXPECT_EQ(e.code, "DependencyViolation");
  EXPECT_STREQ(e.what(), ("The vpc '" + vpc + "' has dependencies and cannot be deleted.").c_str());
  delete_subnet(ctx_, {{"SubnetId", subnet}});
  std::string group = create_group("app", vpc);
  EXPECT_EQ(api_error([&] { delete_vpc(ctx_, {{"VpcId", vpc}}); }).code, "DependencyViolation");
  delete_security_group(ctx_, {{"GroupId", group}});
  delete_vpc(ctx_, {{"VpcId", vpc}});
  EXPECT_EQ(api_error([&] { delete_vpc(ctx_, {{"VpcId", vpc}}); }).code, "InvalidVpcID.NotFound");
  // Its default group went with it.
  EXPECT_TRUE(describe_security_groups(ctx_, {{"Filters", filter("vpc-id", {vpc})}})["SecurityGroups"].empty());
}

TEST_F(Ec2VpcsTest, DeletedDefaultVpcIsNotRecreated) {
  std::string vpc = default_vpc();
  for (const auto& s : default_subnets()) delete_subnet(ctx_, {{"SubnetId", s["SubnetId"]}});
  delete_vpc(ctx_, {{"VpcId", vpc}});
  EXPECT_TRUE(describe_vpcs(ctx_, json::object())["Vpcs"].empty());
  json attrs = describe_account_attributes(ctx_, {{"AttributeNames", {"default-vpc"}}})["AccountAttributes"];
  EXPECT_EQ(attrs[0]["AttributeValues"][0]["AttributeValue"], "none");
  EXPECT_EQ(api_error([&] {
              create_security_group(ctx_, {{"GroupName", "x"}, {"Description", "x"}});
            }).code,
            "VPCIdNotSpecified");
}

TEST_F(Ec2VpcsTest, DescribeVpcsPagesWithMaxResultsAndNextToken) {
  for (int i = 0; i < 5; ++i) create_vpc_with("10." + std::to_string(i) + ".0.0/16");
  json first = describe_vpcs(ctx_, {{"MaxResults", 5}});
  EXPECT_EQ(first["Vpcs"].size(), 5u);
  ASSERT_TRUE(first.contains("NextToken"));
  json second = describe_vpcs(ctx_, {{"MaxResults", 5}, {"NextToken", first["NextToken"]}});
  EXPECT_EQ(second["Vpcs"].size(), 1u);
  EXPECT_FALSE(second.contains("NextToken"));
  EXPECT_EQ(api_error([&] { describe_vpcs(ctx_, {{"NextToken", "garbage"}}); }).code, "InvalidPaginationToken");
}

TEST_F(Ec2VpcsTest, AvailabilityZonesPerRegion) {
  json zones = describe_availability_zones(ctx_, json::object())["AvailabilityZones"];
  ASSERT_EQ(zones.size(), 6u);
  EXPECT_EQ(zones[0]["ZoneName"], "us-east-1a");
  EXPECT_EQ(zones[0]["ZoneId"], "use1-az1");
  EXPECT_EQ(zones[5]["ZoneName"], "us-east-1f");
  EXPECT_EQ(zones[0]["State"], "available");
  EXPECT_EQ(zones[0]["RegionName"], "us-east-1");
  RequestContext eu = context("eu-west-1");
  json eu_zones = describe_availability_zones(eu, json::object())["AvailabilityZones"];
  ASSERT_EQ(eu_zones.size(), 3u);
  EXPECT_EQ(eu_zones[2]["ZoneId"], "euw1-az3");
  RequestContext ap = context("ap-southeast-2");
  EXPECT_EQ(describe_availability_zones(ap, json::object())["AvailabilityZones"][0]["ZoneId"], "apse2-az1");
  json picked = describe_availability_zones(ctx_, {{"ZoneNames", {"us-east-1b"}}})["AvailabilityZones"];
  ASSERT_EQ(picked.size(), 1u);
  EXPECT_EQ(picked[0]["ZoneId"], "use1-az2");
  EXPECT_EQ(
      describe_availability_zones(ctx_, {{"Filters", filter("zone-name", {"*c", "*d"})}})["AvailabilityZones"].size(),
      2u);
  EXPECT_EQ(api_error([&] {
              describe_availability_zones(ctx_, {{"ZoneNames", {"us-east-1z"}}});
            }).code,
            "InvalidParameterValue");
}

TEST_F(Ec2VpcsTest, AccountAttributesNameTheDefaultVpcAndVpcPlatform) {
  json all = describe_account_attributes(ctx_, json::object())["AccountAttributes"];
  EXPECT_EQ(all.size(), 6u);
  json some = describe_account_attributes(
      ctx_, {{"AttributeNames", {"supported-platforms", "default-vpc"}}})["AccountAttributes"];
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[0]["AttributeName"], "supported-platforms");
  EXPECT_EQ(some[0]["AttributeValues"], json::parse(R"([{"AttributeValue":"VPC"}])"));
  EXPECT_EQ(some[1]["AttributeName"], "default-vpc");
  EXPECT_EQ(some[1]["AttributeValues"][0]["AttributeValue"], default_vpc());
}

TEST_F(Ec2VpcsTest, DryRunAnswersDryRunOperation) {
  ServiceApi api = make_api();
  auto e = api_error([&] { api.handlers.at("CreateVpc")(ctx_, {{"CidrBlock", "10.0.0.0/16"}, {"DryRun", true}}); });
  EXPECT_EQ(e.code, "DryRunOperation");
  EXPECT_EQ(e.status, 412);
  EXPECT_EQ(describe_vpcs(ctx_, json::object())["Vpcs"].size(), 1u);
}

}  // namespace
}  // namespace ecsd::services::ec2
