// Tests for DescribeNetworkInterfaces over awsvpc task rows.
#include "ec2_fixture.hpp"

namespace ecsd::services::ec2 {
namespace {

using Ec2NetworkInterfacesTest = Ec2Test;

TEST_F(Ec2NetworkInterfacesTest, AttachedTaskInterfacesAreInUseWithTheSubnetsVpcAndGroups) {
  json subnet = default_subnets()[1];
  std::string web = create_group("web");
  std::string task = add_awsvpc_task(subnet["SubnetId"], {web}, "ATTACHED", "RUNNING", "172.31.16.7");
  json enis = describe_network_interfaces(ctx_, json::object())["NetworkInterfaces"];
  ASSERT_EQ(enis.size(), 1u);
  const json& e = enis[0];
  EXPECT_EQ(e["NetworkInterfaceId"], "eni-00000000000000001");
  EXPECT_EQ(e["Status"], "in-use");
  EXPECT_EQ(e["InterfaceType"], "interface");
  EXPECT_EQ(e["Description"], "arn:aws:ecs:us-east-1:000000000000:attachment/att-1");
  EXPECT_EQ(e["SubnetId"], subnet["SubnetId"]);
  EXPECT_EQ(e["VpcId"], default_vpc());
  EXPECT_EQ(e["AvailabilityZone"], "us-east-1b");
  EXPECT_EQ(e["PrivateIpAddress"], "172.31.16.7");
  EXPECT_EQ(e["PrivateIpAddresses"][0]["Primary"], true);
  EXPECT_EQ(e["MacAddress"], "0a:00:00:00:00:01");
  EXPECT_EQ(e["Groups"], json::parse(R"([{"GroupId":")" + web + R"(","GroupName":"web"}])"));
  EXPECT_EQ(e["Attachment"]["Status"], "attached");
  EXPECT_EQ(e["Attachment"]["AttachTime"], kNow);
  EXPECT_EQ(e["OwnerId"], kAccount);
  EXPECT_EQ(e["RequesterManaged"], true);
  stop_task(task);
  EXPECT_TRUE(describe_network_interfaces(ctx_, json::object())["NetworkInterfaces"].empty());
}

TEST_F(Ec2NetworkInterfacesTest, OnlyAttachedInterfacesOfUnstoppedTasksShow) {
  std::string subnet = default_subnets()[0]["SubnetId"];
  add_awsvpc_task(subnet, {}, "PRECREATED", "PROVISIONING");
  add_awsvpc_task(subnet, {}, "DELETED", "STOPPED");
  EXPECT_TRUE(describe_network_interfaces(ctx_, json::object())["NetworkInterfaces"].empty());
}

TEST_F(Ec2NetworkInterfacesTest, WithoutGroupsATaskGetsItsVpcsDefaultGroup) {
  add_awsvpc_task(default_subnets()[0]["SubnetId"], {});
  json groups = describe_network_interfaces(ctx_, json::object())["NetworkInterfaces"][0]["Groups"];
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0]["GroupId"], default_group());
  EXPECT_EQ(groups[0]["GroupName"], "default");
}

TEST_F(Ec2NetworkInterfacesTest, IdsAndFilters) {
  std::string a = default_subnets()[0]["SubnetId"];
  std::string b = default_subnets()[1]["SubnetId"];
  std::string web = create_group("web");
  add_awsvpc_task(a, {web});
  add_awsvpc_task(b, {});
  auto count = [&](const json& in) { return describe_network_interfaces(ctx_, in)["NetworkInterfaces"].size(); };
  EXPECT_EQ(count({{"NetworkInterfaceIds", {"eni-00000000000000002"}}}), 1u);
  EXPECT_EQ(count({{"Filters", filter("subnet-id", {a})}}), 1u);
  EXPECT_EQ(count({{"Filters", filter("group-id", {web})}}), 1u);
  EXPECT_EQ(count({{"Filters", filter("group-name", {"default"})}}), 1u);
  EXPECT_EQ(count({{"Filters", filter("description", {"*attachment/att-2"})}}), 1u);
  EXPECT_EQ(count({{"Filters", filter("status", {"in-use"})}}), 2u);
  EXPECT_EQ(count({{"Filters", filter("vpc-id", {default_vpc()})}}), 2u);
  EXPECT_EQ(count({{"Filters", filter("availability-zone", {"us-east-1b"})}}), 1u);
  EXPECT_EQ(count({{"Filters", filter("private-ip-address", {"172.31.0.10"})}}), 2u);
  auto e = api_error([&] { describe_network_interfaces(ctx_, {{"NetworkInterfaceIds", {"eni-0000000000000000f"}}}); });
  EXPECT_EQ(e.code, "InvalidNetworkInterfaceID.NotFound");
  EXPECT_STREQ(e.what(), "The networkInterface ID 'eni-0000000000000000f' does not exist");
}

TEST_F(Ec2NetworkInterfacesTest, InterfacesCanBeTagged) {
  add_awsvpc_task(default_subnets()[0]["SubnetId"], {});
  create_tags(ctx_, {{"Resources", {"eni-00000000000000001"}}, {"Tags", {{{"Key", "k"}, {"Value", "v"}}}}});
  json e = describe_network_interfaces(ctx_, {{"Filters", filter("tag:k", {"v"})}})["NetworkInterfaces"];
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["TagSet"][0]["Key"], "k");
  EXPECT_EQ(describe_tags(ctx_, {{"Filters", filter("resource-type", {"network-interface"})}})["Tags"].size(), 1u);
}

TEST_F(Ec2NetworkInterfacesTest, OtherScopesSeeNoInterfaces) {
  add_awsvpc_task(default_subnets()[0]["SubnetId"], {});
  RequestContext west = context("us-west-2");
  EXPECT_TRUE(describe_network_interfaces(west, json::object())["NetworkInterfaces"].empty());
}

}  // namespace
}  // namespace ecsd::services::ec2
