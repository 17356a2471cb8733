// Tests for the networking rules ECS and ELBv2 use (domain/networking.hpp): CIDR arithmetic, zones,
// the default VPC, awsvpc configuration checks and subnet lookups.
#include "ecsd/domain/networking.hpp"

#include <gtest/gtest.h>

#include "ecsd/store/store.hpp"

namespace ecsd::domain {
namespace {

const store::Scope kScope{"000000000000", "us-east-1"};

TEST(NetworkingTest, ParsesCidrsAndRejectsMalformedOnes) {
  auto c = parse_cidr("10.1.0.0/16");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->prefix, 16);
  EXPECT_EQ(c->size(), 65536u);
  EXPECT_EQ(c->str(), "10.1.0.0/16");
  EXPECT_EQ(ipv4_string(c->last()), "10.1.255.255");
  EXPECT_TRUE(parse_cidr("0.0.0.0/0"));
  EXPECT_TRUE(parse_cidr("1.2.3.4/32"));
  for (const char* bad : {"10.1.0.0", "10.1.0/16", "10.1.0.0/33", "10.1.0.1/16", "256.0.0.0/8", "10.1.0.0/-1",
                          "a.b.c.d/8", "10.01.0.0/16", "10.1.0.0/16x", ""})
    EXPECT_FALSE(parse_cidr(bad)) << bad;
}

TEST(NetworkingTest, ContainmentAndOverlap) {
  auto vpc = *parse_cidr("10.0.0.0/16");
  auto a = *parse_cidr("10.0.1.0/24");
  auto b = *parse_cidr("10.0.0.0/23");
  auto c = *parse_cidr("10.0.2.0/24");
  EXPECT_TRUE(vpc.contains(a));
  EXPECT_FALSE(a.contains(vpc));
  EXPECT_TRUE(a.overlaps(b));
  EXPECT_TRUE(b.overlaps(a));
  EXPECT_FALSE(b.overlaps(c));
  EXPECT_FALSE(vpc.contains(*parse_cidr("10.1.0.0/24")));
  EXPECT_TRUE(a.contains(*parse_ipv4("10.0.1.200")));
}

TEST(NetworkingTest, ZonesAndDefaultSubnetBlocks) {
  EXPECT_EQ(availability_zones("us-east-1").size(), 6u);
  EXPECT_EQ(availability_zones("us-west-2").size(), 4u);
  auto eu = availability_zones("eu-west-3");
  ASSERT_EQ(eu.size(), 3u);
  EXPECT_EQ(eu[0].name, "eu-west-3a");
  EXPECT_EQ(eu[0].id, "euw3-az1");
  EXPECT_EQ(availability_zones("ap-northeast-1")[1].id, "apne1-az2");
  EXPECT_EQ(availability_zones("ca-central-1")[2].id, "cac1-az3");
  EXPECT_EQ(default_subnet_cidr(0).str(), "172.31.0.0/20");
  EXPECT_EQ(default_subnet_cidr(5).str(), "172.31.80.0/20");
}

TEST(NetworkingTest, NewIdsLookLikeAwsIds) {
  std::string id = new_id("subnet");
  EXPECT_EQ(id.size(), 7u + 17u);
  EXPECT_EQ(id.rfind("subnet-0", 0), 0u);
  EXPECT_NE(new_id("subnet"), id);
}

class NetworkingStoreTest : public ::testing::Test {
 protected:
  store::Store store_{":memory:"};
};

TEST_F(NetworkingStoreTest, DefaultVpcIsCreatedOnceInsideOrOutsideATransaction) {
  store_.read([&](store::Db& db) { ensure_default_vpc(db, kScope); });
  store_.write([&](store::Db& db) { ensure_default_vpc(db, kScope); });
  store_.read([&](store::Db& db) {
    auto vpcs = store::VpcRepo(db).list(kScope);
    ASSERT_EQ(vpcs.size(), 1u);
    EXPECT_TRUE(vpcs[0].is_default);
    EXPECT_EQ(store::SubnetRepo(db).list(kScope).size(), 6u);
    auto groups = store::SecurityGroupRepo(db).list(kScope);
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0].name, "default");
    EXPECT_EQ(store::SecurityGroupRepo(db).rules(groups[0].id).size(), 2u);
    EXPECT_EQ(default_security_group(db, kScope, vpcs[0].id), groups[0].id);
  });
}

TEST_F(NetworkingStoreTest, SubnetsReportsTheOnesThatExistInOrder) {
  store_.read([&](store::Db& db) {
    ensure_default_vpc(db, kScope);
    auto all = store::SubnetRepo(db).list(kScope);
    auto found = subnets(db, kScope, {all[2].id, "subnet-0000000000000000a", all[0].id});
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].id, all[2].id);
    EXPECT_EQ(found[0].az, "us-east-1c");
    EXPECT_EQ(found[0].cidr, "172.31.32.0/20");
    EXPECT_EQ(found[0].vpc_id, store::VpcRepo(db).find_default(kScope)->id);
    EXPECT_EQ(found[1].az, "us-east-1a");
    // Another scope's subnets are not found.
    EXPECT_TRUE(subnets(db, {"000000000000", "eu-west-1"}, {all[0].id}).empty());
  });
}

TEST_F(NetworkingStoreTest, AwsvpcConfigurationChecksSubnetsThenGroups) {
  store_.read([&](store::Db& db) {
    ensure_default_vpc(db, kScope);
    std::string subnet = store::SubnetRepo(db).list(kScope)[0].id;
    std::string group = store::SecurityGroupRepo(db).list(kScope)[0].id;
    json ok = {{"subnets", {subnet}}, {"securityGroups", {group}}, {"assignPublicIp", "DISABLED"}};
    EXPECT_EQ(check_awsvpc_configuration(db, kScope, ok), "");
    EXPECT_EQ(check_awsvpc_configuration(db, kScope, {{"awsvpcConfiguration", ok}}), "");
    EXPECT_EQ(check_awsvpc_configuration(db, kScope, {{"subnets", {subnet}}}), "");

    std::string msg = check_awsvpc_configuration(db, kScope, {{"subnets", {subnet, "subnet-123"}}});
    EXPECT_EQ(msg.rfind("Error retrieving subnet information for [" + subnet +
                            ", subnet-123]: The subnet ID 'subnet-123' does not exist (Service: AmazonEC2; Status "
                            "Code: 400; Error Code: InvalidSubnetID.NotFound; Request ID: ",
                        0),
              0u)
        << msg;
    msg = check_awsvpc_configuration(db, kScope, {{"subnets", {subnet}}, {"securityGroups", {"sg-123"}}});
    EXPECT_EQ(msg.rfind("Error retrieving security group information for [sg-123]: The security group 'sg-123' does "
                        "not exist (Service: AmazonEC2; Status Code: 400; Error Code: InvalidGroup.NotFound; ",
                        0),
              0u)
        << msg;
  });
}

}  // namespace
}  // namespace ecsd::domain
