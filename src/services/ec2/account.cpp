// EC2 region and account facts: DescribeAvailabilityZones, DescribeAccountAttributes.
#include <algorithm>

#include "ecsd/common/api_error.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/services/ec2/ec2.hpp"
#include "ecsd/services/ec2/filters.hpp"

namespace ecsd::services::ec2 {

namespace {

// clang-format off
const FilterNames kZoneFilters = {
    "group-long-name", "group-name", "message", "opt-in-status", "parent-zone-id", "parent-zone-name",
    "region-name", "state", "zone-id", "zone-name", "zone-type", "network-border-group"};
// clang-format on

json zone_view(const std::string& region, const domain::AvailabilityZone& z) {
  return {{"OptInStatus", "opt-in-not-required"},
          {"Messages", json::array()},
          {"RegionName", region},
          {"ZoneName", z.name},
          {"ZoneId", z.id},
          {"GroupName", region + "-zg-1"},
          {"NetworkBorderGroup", region},
          {"ZoneType", "availability-zone"},
          {"State", "available"}};
}

FilterValues zone_filter_values(const json& z) {
  return {{"group-name", {z["GroupName"]}},   {"opt-in-status", {z["OptInStatus"]}},
          {"region-name", {z["RegionName"]}}, {"state", {z["State"]}},
          {"zone-id", {z["ZoneId"]}},         {"zone-name", {z["ZoneName"]}},
          {"zone-type", {z["ZoneType"]}},     {"network-border-group", {z["NetworkBorderGroup"]}}};
}

json attribute(const std::string& name, const std::vector<std::string>& values) {
  json out = {{"AttributeName", name}, {"AttributeValues", json::array()}};
  for (const auto& v : values) out["AttributeValues"].push_back({{"AttributeValue", v}});
  return out;
}

}  // namespace

json describe_availability_zones(RequestContext& ctx, const json& in) {
  Filters filters(in.value("Filters", json()), kZoneFilters);
  auto names = strings(in, "ZoneNames");
  auto zone_ids = strings(in, "ZoneIds");
  auto zones = domain::availability_zones(ctx.scope.region);
  for (const auto& wanted : names)
    if (std::none_of(zones.begin(), zones.end(), [&](const auto& z) { return z.name == wanted; }))
      throw ApiError("InvalidParameterValue", "Invalid availability zone: [" + wanted + "]");
  for (const auto& wanted : zone_ids)
    if (std::none_of(zones.begin(), zones.end(), [&](const auto& z) { return z.id == wanted; }))
      throw ApiError("InvalidParameterValue", "Invalid availability zone ID: [" + wanted + "]");
  json out = json::array();
  for (const auto& z : zones) {
    bool named = std::find(names.begin(), names.end(), z.name) != names.end() ||
                 std::find(zone_ids.begin(), zone_ids.end(), z.id) != zone_ids.end();
    if (!names.empty() || !zone_ids.empty())
      if (!named) continue;
    json v = zone_view(ctx.scope.region, z);
    if (filters.matches(zone_filter_values(v))) out.push_back(std::move(v));
  }
  return {{"AvailabilityZones", out}};
}

json describe_account_attributes(RequestContext& ctx, const json& in) {
  auto names = strings(in, "AttributeNames");
  std::string default_vpc = ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    auto vpc = store::VpcRepo(db).find_default(ctx.scope);
    return vpc ? vpc->id : std::string("none");
  });
  // The attributes and order of a new account's answer.
  json all = json::array({attribute("vpc-max-security-groups-per-interface", {"5"}), attribute("max-instances", {"20"}),
                          attribute("supported-platforms", {"VPC"}), attribute("default-vpc", {default_vpc}),
                          attribute("max-elastic-ips", {"5"}), attribute("vpc-max-elastic-ips", {"5"})});
  if (names.empty()) return {{"AccountAttributes", all}};
  json out = json::array();
  for (const auto& a : all)
    if (std::find(names.begin(), names.end(), a["AttributeName"].get<std::string>()) != names.end()) out.push_back(a);
  return {{"AccountAttributes", out}};
}

}  // namespace ecsd::services::ec2
