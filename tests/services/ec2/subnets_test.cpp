// Tests for the EC2 subnet handlers (DescribeSubnets, CreateSubnet, DeleteSubnet), called directly.
#include "ec2_fixture.hpp"

namespace ecsd::services::ec2 {
namespace {

using Ec2SubnetsTest = Ec2Test;

TEST_F(Ec2SubnetsTest, DefaultVpcHasOneSlash20PerZone) {
  json subnets = describe_subnets(ctx_, {{"Filters", filter("vpc-id", {default_vpc()})}})["Subnets"];
  ASSERT_EQ(subnets.size(), 6u);
  const char* cidrs[] = {"172.31.0.0/20",  "172.31.16.0/20", "172.31.32.0/20",
                         "172.31.48.0/20", "172.31.64.0/20", "172.31.80.0/20"};
  for (std::size_t i = 0; i < subnets.size(); ++i) {
    SCOPED_TRACE(i);
    const json& s = subnets[i];
    EXPECT_EQ(s["CidrBlock"], cidrs[i]);
    EXPECT_EQ(s["AvailabilityZone"], "us-east-1" + std::string(1, static_cast<char>('a' + i)));
    EXPECT_EQ(s["AvailabilityZoneId"], "use1-az" + std::to_string(i + 1));
    EXPECT_EQ(s["DefaultForAz"], true);
    EXPECT_EQ(s["MapPublicIpOnLaunch"], true);
    EXPECT_EQ(s["State"], "available");
    EXPECT_EQ(s["AvailableIpAddressCount"], 4091);
    EXPECT_EQ(s["SubnetArn"], "arn:aws:ec2:us-east-1:000000000000:subnet/" + s["SubnetId"].get<std::string>());
  }
  RequestContext eu = context("eu-central-1");
  json eu_subnets = describe_subnets(eu, json::object())["Subnets"];
  ASSERT_EQ(eu_subnets.size(), 3u);
  EXPECT_EQ(eu_subnets[2]["AvailabilityZone"], "eu-central-1c");
}

TEST_F(Ec2SubnetsTest, FiltersByZoneDefaultForAzAndCidrAliases) {
  EXPECT_EQ(
      describe_subnets(ctx_, {{"Filters", filter("availability-zone", {"us-east-1b"})}})["Subnets"][0]["CidrBlock"],
      "172.31.16.0/20");
  EXPECT_EQ(describe_subnets(ctx_, {{"Filters", filter("defaultForAz", {"true"})}})["Subnets"].size(), 6u);
  EXPECT_EQ(describe_subnets(ctx_, {{"Filters", filter("cidrBlock", {"172.31.32.0/20"})}})["Subnets"].size(), 1u);
  EXPECT_EQ(describe_subnets(ctx_, {{"Filters", filter("cidr-block", {"172.31.32.0/20"})}})["Subnets"].size(), 1u);
  json two = describe_subnets(
      ctx_, {{"Filters", json::array({{{"Name", "availability-zone"}, {"Values", {"us-east-1a", "us-east-1c"}}},
                                      {{"Name", "default-for-az"}, {"Values", {"true"}}}})}})["Subnets"];
  EXPECT_EQ(two.size(), 2u);
  EXPECT_TRUE(describe_subnets(ctx_, {{"Filters", filter("outpost-arn", {"*"})}})["Subnets"].empty());
}

TEST_F(Ec2SubnetsTest, CreateSubnetInsideTheVpcWithoutOverlap) {
  std::string vpc = create_vpc_with("10.0.0.0/16");
  json in = {{"VpcId", vpc},
             {"CidrBlock", "10.0.1.0/24"},
             {"AvailabilityZone", "us-east-1c"},
             {"TagSpecifications", {{{"ResourceType", "subnet"}, {"Tags", {{{"Key", "tier"}, {"Value", "app"}}}}}}}};
  json s = create_subnet(ctx_, in)["Subnet"];
  EXPECT_EQ(s["VpcId"], vpc);
  EXPECT_EQ(s["AvailabilityZone"], "us-east-1c");
  EXPECT_EQ(s["AvailabilityZoneId"], "use1-az3");
  EXPECT_EQ(s["DefaultForAz"], false);
  EXPECT_EQ(s["MapPublicIpOnLaunch"], false);
  EXPECT_EQ(s["AvailableIpAddressCount"], 251);
  EXPECT_EQ(s["Tags"][0]["Key"], "tier");

  auto conflict = api_error([&] { create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.0.0.0/23"}}); });
  EXPECT_EQ(conflict.code, "InvalidSubnet.Conflict");
  EXPECT_STREQ(conflict.what(), "The CIDR '10.0.0.0/23' conflicts with another subnet");
  auto range = api_error([&] { create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.1.0.0/24"}}); });
  EXPECT_EQ(range.code, "InvalidSubnet.Range");
  EXPECT_STREQ(range.what(), "The CIDR '10.1.0.0/24' is invalid.");
  EXPECT_EQ(api_error([&] {
              create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.0.2.0/29"}});
            }).code,
            "InvalidSubnet.Range");
  EXPECT_EQ(api_error([&] {
              create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.0.2.0/33"}});
            }).code,
            "InvalidParameterValue");
  EXPECT_EQ(api_error([&] {
              create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.0.2.0/24"}, {"AvailabilityZone", "us-east-1z"}});
            }).code,
            "InvalidParameterValue");
  EXPECT_EQ(api_error([&] {
              create_subnet(ctx_, {{"VpcId", "vpc-0000000000000000a"}, {"CidrBlock", "10.0.2.0/24"}});
            }).code,
            "InvalidVpcID.NotFound");
  // Adjacent blocks do not conflict.
  create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.0.0.0/24"}});
  create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.0.2.0/23"}});
}

TEST_F(Ec2SubnetsTest, DefaultVpcSubnetsConflictWithNewOnes) {
  auto e = api_error([&] { create_subnet(ctx_, {{"VpcId", default_vpc()}, {"CidrBlock", "172.31.0.0/24"}}); });
  EXPECT_EQ(e.code, "InvalidSubnet.Conflict");
  json s = create_subnet(ctx_, {{"VpcId", default_vpc()}, {"CidrBlock", "172.31.96.0/20"}})["Subnet"];
  EXPECT_EQ(s["DefaultForAz"], false);
}

TEST_F(Ec2SubnetsTest, ZoneByIdOrTheLeastUsedOne) {
  std::string vpc = create_vpc_with("10.0.0.0/16");
  EXPECT_EQ(create_subnet(ctx_, {{"VpcId", vpc},
                                 {"CidrBlock", "10.0.0.0/24"},
                                 {"AvailabilityZoneId", "use1-az4"}})["Subnet"]["AvailabilityZone"],
            "us-east-1d");
  EXPECT_EQ(create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.0.1.0/24"}})["Subnet"]["AvailabilityZone"],
            "us-east-1a");
  EXPECT_EQ(create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.0.2.0/24"}})["Subnet"]["AvailabilityZone"],
            "us-east-1b");
}

TEST_F(Ec2SubnetsTest, DeleteSubnet) {
  std::string vpc = create_vpc_with("10.0.0.0/16");
  std::string id = create_subnet(ctx_, {{"VpcId", vpc}, {"CidrBlock", "10.0.0.0/24"}})["Subnet"]["SubnetId"];
  create_tags(ctx_, {{"Resources", {id}}, {"Tags", {{{"Key", "a"}, {"Value", "b"}}}}});
  delete_subnet(ctx_, {{"SubnetId", id}});
  auto e = api_error([&] { describe_subnets(ctx_, {{"SubnetIds", {id}}}); });
  EXPECT_EQ(e.code, "InvalidSubnetID.NotFound");
  EXPECT_STREQ(e.what(), ("The subnet ID '" + id + "' does not exist").c_str());
  EXPECT_EQ(api_error([&] { delete_subnet(ctx_, {{"SubnetId", id}}); }).code, "InvalidSubnetID.NotFound");
  EXPECT_TRUE(describe_tags(ctx_, {{"Filters", filter("resource-id", {id})}})["Tags"].empty());
}

TEST_F(Ec2SubnetsTest, SubnetWithATaskInterfaceCannotBeDeletedUntilTheTaskStops) {
  std::string subnet = default_subnets()[0]["SubnetId"];
  std::string task = add_awsvpc_task(subnet, {});
  EXPECT_EQ(describe_subnets(ctx_, {{"SubnetIds", {subnet}}})["Subnets"][0]["AvailableIpAddressCount"], 4090);
  auto e = api_error([&] { delete_subnet(ctx_, {{"SubnetId", subnet}}); });
  EXPECT_EQ(e.code, "DependencyViolation");
  EXPECT_STREQ(e.what(), ("The subnet '" + subnet + "' has dependencies and cannot be deleted.").c_str());
  stop_task(task);
  delete_subnet(ctx_, {{"SubnetId", subnet}});
}

}  // namespace
}  // namespace ecsd::services::ec2
