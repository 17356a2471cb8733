// Tests for the generic EC2 filter engine.
#include "ecsd/services/ec2/filters.hpp"

#include <gtest/gtest.h>

#include "ecsd/common/api_error.hpp"

namespace ecsd::services::ec2 {
namespace {

using nlohmann::json;

const FilterNames kKnown = {"vpc-id", "state", "tag-key", "tag-value"};

json filters(std::initializer_list<std::pair<const char*, std::vector<std::string>>> fs) {
  json out = json::array();
  for (const auto& [name, values] : fs) out.push_back({{"Name", name}, {"Values", values}});
  return out;
}

TEST(Ec2FiltersTest, WildcardsStarQuestionMarkAndEscapes) {
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_TRUE(wildcard_match("*", "anything"));
  EXPECT_TRUE(wildcard_match("vpc-*", "vpc-123"));
  EXPECT_FALSE(wildcard_match("vpc-*", "subnet-123"));
  EXPECT_TRUE(wildcard_match("*-1?3", "vpc-123"));
  EXPECT_FALSE(wildcard_match("*-1?3", "vpc-13"));
  EXPECT_TRUE(wildcard_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(wildcard_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(wildcard_match("exact", "exact"));
  EXPECT_FALSE(wildcard_match("exact", "Exact"));  // values are case-sensitive
  EXPECT_TRUE(wildcard_match("a\\*b", "a*b"));
  EXPECT_FALSE(wildcard_match("a\\*b", "aXb"));
  EXPECT_TRUE(wildcard_match("a\\?", "a?"));
  EXPECT_FALSE(wildcard_match("a\\?", "ab"));
}

TEST(Ec2FiltersTest, ValuesAreOredAndFiltersAnded) {
  Filters f(filters({{"vpc-id", {"vpc-1", "vpc-2"}}, {"state", {"available"}}}), kKnown);
  EXPECT_TRUE(f.matches({{"vpc-id", {"vpc-2"}}, {"state", {"available"}}}));
  EXPECT_FALSE(f.matches({{"vpc-id", {"vpc-3"}}, {"state", {"available"}}}));
  EXPECT_FALSE(f.matches({{"vpc-id", {"vpc-1"}}, {"state", {"pending"}}}));
  EXPECT_FALSE(f.matches({{"vpc-id", {"vpc-1"}}}));  // no value for a filtered name: no match
}

TEST(Ec2FiltersTest, AnyOfSeveralResourceValuesMatches) {
  Filters f(filters({{"state", {"b"}}}), kKnown);
  EXPECT_TRUE(f.matches({{"state", {"a", "b"}}}));
  EXPECT_TRUE(Filters(json(), kKnown).matches({}));
}

TEST(Ec2FiltersTest, TagFiltersComeFromTags) {
  FilterValues v;
  add_tag_values(v, {{"Name", "web"}, {"env", "prod"}});
  EXPECT_TRUE(Filters(filters({{"tag:Name", {"w*"}}}), kKnown).matches(v));
  EXPECT_FALSE(Filters(filters({{"tag:Name", {"prod"}}}), kKnown).matches(v));
  EXPECT_FALSE(Filters(filters({{"tag:Other", {"*"}}}), kKnown).matches(v));
  EXPECT_TRUE(Filters(filters({{"tag-key", {"env"}}}), kKnown).matches(v));
  EXPECT_TRUE(Filters(filters({{"tag-value", {"prod"}}}), kKnown).matches(v));
}

TEST(Ec2FiltersTest, UnknownNamesAreRejected) {
  try {
    Filters(filters({{"colour", {"x"}}}), kKnown);
    FAIL() << "expected InvalidParameterValue";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code, "InvalidParameterValue");
    EXPECT_STREQ(e.what(), "The filter 'colour' is invalid");
  }
}

}  // namespace
}  // namespace ecsd::services::ec2
