// Tests for EC2 CreateTags, DeleteTags and DescribeTags, and tag filters on the Describe calls.
#include "ec2_fixture.hpp"

namespace ecsd::services::ec2 {
namespace {

using Ec2TagsTest = Ec2Test;

json tags(std::initializer_list<std::pair<const char*, const char*>> kv) {
  json out = json::array();
  for (const auto& [k, v] : kv) out.push_back({{"Key", k}, {"Value", v}});
  return out;
}

TEST_F(Ec2TagsTest, CreateTagsOnSeveralResourceTypes) {
  std::string vpc = default_vpc();
  std::string subnet = default_subnets()[0]["SubnetId"];
  std::string group = default_group();
  create_tags(ctx_, {{"Resources", {vpc, subnet, group}}, {"Tags", tags({{"env", "dev"}, {"team", "a"}})}});
  json all = describe_tags(ctx_, json::object())["Tags"];
  EXPECT_EQ(all.size(), 6u);
  json vpc_tags = describe_tags(ctx_, {{"Filters", filter("resource-type", {"vpc"})}})["Tags"];
  ASSERT_EQ(vpc_tags.size(), 2u);
  EXPECT_EQ(vpc_tags[0], json({{"Key", "env"}, {"ResourceId", vpc}, {"ResourceType", "vpc"}, {"Value", "dev"}}));
  EXPECT_EQ(describe_tags(ctx_, {{"Filters", filter("resource-id", {subnet})}})["Tags"].size(), 2u);
  EXPECT_EQ(describe_tags(ctx_, {{"Filters", filter("key", {"team"})}})["Tags"].size(), 3u);
  EXPECT_EQ(describe_tags(ctx_, {{"Filters", filter("tag:env", {"d*"})}})["Tags"].size(), 3u);
  EXPECT_EQ(describe_tags(ctx_, {{"Filters", filter("value", {"a"})}})["Tags"].size(), 3u);
  // Tags show on the resources and filter them.
  EXPECT_EQ(describe_vpcs(ctx_, {{"VpcIds", {vpc}}})["Vpcs"][0]["Tags"].size(), 2u);
  EXPECT_EQ(describe_subnets(ctx_, {{"Filters", filter("tag:env", {"dev"})}})["Subnets"].size(), 1u);
  EXPECT_EQ(describe_subnets(ctx_, {{"Filters", filter("tag-key", {"team"})}})["Subnets"].size(), 1u);
  EXPECT_EQ(describe_security_groups(ctx_, {{"Filters", filter("tag:team", {"a"})}})["SecurityGroups"].size(), 1u);
}

TEST_F(Ec2TagsTest, CreateTagsOverwritesValues) {
  std::string vpc = default_vpc();
  create_tags(ctx_, {{"Resources", {vpc}}, {"Tags", tags({{"Name", "one"}})}});
  create_tags(ctx_, {{"Resources", {vpc}}, {"Tags", tags({{"Name", "two"}})}});
  json t = describe_vpcs(ctx_, {{"VpcIds", {vpc}}})["Vpcs"][0]["Tags"];
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0]["Value"], "two");
}

TEST_F(Ec2TagsTest, DeleteTagsByKeyByKeyAndValueOrAll) {
  std::string vpc = default_vpc();
  create_tags(ctx_, {{"Resources", {vpc}}, {"Tags", tags({{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}})}});
  delete_tags(ctx_, {{"Resources", {vpc}}, {"Tags", {{{"Key", "a"}}}}});
  delete_tags(ctx_, {{"Resources", {vpc}}, {"Tags", tags({{"b", "wrong"}, {"c", "3"}})}});
  json left = describe_vpcs(ctx_, {{"VpcIds", {vpc}}})["Vpcs"][0]["Tags"];
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0]["Key"], "b");
  EXPECT_EQ(left[1]["Key"], "d");
  delete_tags(ctx_, {{"Resources", {vpc}}});
  EXPECT_FALSE(describe_vpcs(ctx_, {{"VpcIds", {vpc}}})["Vpcs"][0].contains("Tags"));
}

TEST_F(Ec2TagsTest, UnknownResourcesAndReservedKeys) {
  EXPECT_EQ(api_error([&] {
              create_tags(ctx_, {{"Resources", {"vpc-0000000000000000a"}}, {"Tags", tags({{"a", "b"}})}});
            }).code,
            "InvalidVpcID.NotFound");
  EXPECT_EQ(api_error([&] {
              create_tags(ctx_, {{"Resources", {"subnet-0000000000000000a"}}, {"Tags", tags({{"a", "b"}})}});
            }).code,
            "InvalidSubnetID.NotFound");
  EXPECT_EQ(api_error([&] {
              create_tags(ctx_, {{"Resources", {"sg-0000000000000000a"}}, {"Tags", tags({{"a", "b"}})}});
            }).code,
            "InvalidGroup.NotFound");
  auto e = api_error([&] { create_tags(ctx_, {{"Resources", {"i-123"}}, {"Tags", tags({{"a", "b"}})}}); });
  EXPECT_EQ(e.code, "InvalidID");
  EXPECT_STREQ(e.what(), "The ID 'i-123' is not valid");
  EXPECT_EQ(api_error([&] {
              create_tags(ctx_, {{"Resources", {default_vpc()}}, {"Tags", tags({{"aws:x", "b"}})}});
            }).code,
            "InvalidParameterValue");
  EXPECT_EQ(api_error([&] {
              describe_tags(ctx_, {{"Filters", filter("colour", {"x"})}});
            }).code,
            "InvalidParameterValue");
}

TEST_F(Ec2TagsTest, TagsOfADeletedResourceGoWithIt) {
  std::string group = create_group("web");
  create_tags(ctx_, {{"Resources", {group}}, {"Tags", tags({{"a", "b"}})}});
  delete_security_group(ctx_, {{"GroupId", group}});
  EXPECT_TRUE(describe_tags(ctx_, json::object())["Tags"].empty());
}

TEST_F(Ec2TagsTest, DescribeTagsPages) {
  std::string vpc = default_vpc();
  create_tags(ctx_, {{"Resources", {vpc}}, {"Tags", tags({{"a", "1"}, {"b", "2"}, {"c", "3"}})}});
  json first = describe_tags(ctx_, {{"MaxResults", 2}});
  EXPECT_EQ(first["Tags"].size(), 2u);
  json second = describe_tags(ctx_, {{"MaxResults", 2}, {"NextToken", first["NextToken"]}});
  EXPECT_EQ(second["Tags"].size(), 1u);
  EXPECT_EQ(second["Tags"][0]["Key"], "c");
}

}  // namespace
}  // namespace ecsd::services::ec2
