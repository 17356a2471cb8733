// EC2 subnet handlers: DescribeSubnets, CreateSubnet, DeleteSubnet.
#include <algorithm>
#include <cstdint>
#include <map>

#include "ecsd/common/api_error.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/services/ec2/ec2.hpp"
#include "ecsd/services/ec2/filters.hpp"

namespace ecsd::services::ec2 {

namespace {

// clang-format off
const FilterNames kSubnetFilters = {
    "availability-zone", "availability-zone-id", "available-ip-address-count", "cidr-block", "cidr", "cidrBlock",
    "customer-owned-ipv4-pool", "default-for-az", "defaultForAz", "enable-dns64", "enable-lni-at-device-index",
    "ipv6-cidr-block-association.ipv6-cidr-block", "ipv6-cidr-block-association.association-id",
    "ipv6-cidr-block-association.state", "ipv6-native", "map-customer-owned-ip-on-launch",
    "map-public-ip-on-launch", "outpost-arn", "owner-id", "private-dns-name-options-on-launch.hostname-type",
    "private-dns-name-options-on-launch.enable-resource-name-dns-a-record",
    "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record", "state", "subnet-arn", "subnet-id",
    "tag-key", "tag-value", "vpc-id"};
// clang-format on

// Addresses AWS reserves in every subnet: network, router, DNS, future use, broadcast.
constexpr std::int64_t kReservedAddresses = 5;

// @return the number of task ENIs per subnet id.
std::map<std::string, std::int64_t> interfaces_per_subnet(store::Db& db, const store::Scope& scope) {
  std::map<std::string, std::int64_t> out;
  for (const auto& eni : domain::task_interfaces(db, scope)) ++out[eni.subnet_id];
  return out;
}

json view(const store::SubnetRow& s, const store::Tags& tags, std::int64_t interfaces) {
  json out = s.doc;
  auto cidr = domain::parse_cidr(s.cidr);
  std::int64_t size = cidr ? static_cast<std::int64_t>(cidr->size()) : 0;
  out["AvailableIpAddressCount"] = std::max<std::int64_t>(0, size - kReservedAddresses - interfaces);
  if (!tags.empty()) out["Tags"] = tag_list(tags);
  return out;
}

FilterValues filter_values(const json& s, const store::Tags& tags) {
  const json& dns = s["PrivateDnsNameOptionsOnLaunch"];
  std::string cidr = s.value("CidrBlock", "");
  std::string default_for_az = bool_value(s.value("DefaultForAz", false));
  FilterValues f = {{"availability-zone", {s.value("AvailabilityZone", "")}},
                    {"availability-zone-id", {s.value("AvailabilityZoneId", "")}},
                    {"available-ip-address-count", {std::to_string(s.value("AvailableIpAddressCount", 0))}},
                    {"cidr-block", {cidr}},
                    {"cidr", {cidr}},
                    {"cidrBlock", {cidr}},
                    {"default-for-az", {default_for_az}},
                    {"defaultForAz", {default_for_az}},
                    {"enable-dns64", {bool_value(s.value("EnableDns64", false))}},
                    {"ipv6-native", {bool_value(s.value("Ipv6Native", false))}},
                    {"map-customer-owned-ip-on-launch", {bool_value(s.value("MapCustomerOwnedIpOnLaunch", false))}},
                    {"map-public-ip-on-launch", {bool_value(s.value("MapPublicIpOnLaunch", false))}},
                    {"owner-id", {s.value("OwnerId", "")}},
                    {"private-dns-name-options-on-launch.hostname-type", {dns.value("HostnameType", "")}},
                    {"private-dns-name-options-on-launch.enable-resource-name-dns-a-record",
                     {bool_value(dns.value("EnableResourceNameDnsARecord", false))}},
                    {"private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record",
                     {bool_value(dns.value("EnableResourceNameDnsAAAARecord", false))}},
                    {"state", {s.value("State", "")}},
                    {"subnet-arn", {s.value("SubnetArn", "")}},
                    {"subnet-id", {s.value("SubnetId", "")}},
                    {"vpc-id", {s.value("VpcId", "")}}};
  add_tag_values(f, tags);
  return f;
}

// The zone a CreateSubnet request names, or the VPC's least used zone when it names none.
domain::AvailabilityZone choose_zone(const RequestContext& ctx, const json& in,
                                     const std::vector<store::SubnetRow>& siblings) {
  auto zones = domain::availability_zones(ctx.scope.region);
  if (in.contains("AvailabilityZone") || in.contains("AvailabilityZoneId")) {
    bool by_id = !in.contains("AvailabilityZone");
    std::string wanted = by_id ? in["AvailabilityZoneId"] : in["AvailabilityZone"];
    for (const auto& z : zones)
      if ((by_id ? z.id : z.name) == wanted) return z;
    std::string names;
    for (const auto& z : zones) names += (names.empty() ? "" : ", ") + (by_id ? z.id : z.name);
    throw ApiError("InvalidParameterValue", "Value (" + wanted + ") for parameter " +
                                                (by_id ? "availabilityZoneId" : "availabilityZone") +
                                                " is invalid. Subnets can currently only be created in the following "
                                                "availability zones: " +
                                                names + ".");
  }
  const domain::AvailabilityZone* best = &zones[0];
  std::size_t best_count = SIZE_MAX;
  for (const auto& z : zones) {
    std::size_t n = std::count_if(siblings.begin(), siblings.end(), [&](const auto& s) { return s.az == z.name; });
    if (n < best_count) {
      best = &z;
      best_count = n;
    }
  }
  return *best;
}

}  // namespace

json describe_subnets(RequestContext& ctx, const json& in) {
  Filters filters(in.value("Filters", json()), kSubnetFilters);
  auto ids = strings(in, "SubnetIds");
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    auto used = interfaces_per_subnet(db, ctx.scope);
    store::Ec2TagRepo tags(db);
    json out = json::array();
    std::set<std::string> found;
    for (const auto& s : store::SubnetRepo(db).list(ctx.scope)) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), s.id) == ids.end()) continue;
      found.insert(s.id);
      auto t = tags.get(s.id);
      json v = view(s, t, used[s.id]);
      if (filters.matches(filter_values(v, t))) out.push_back(std::move(v));
    }
    require_found(ids, found, "InvalidSubnetID.NotFound", "subnet ID");
    return page(std::move(out), in, "Subnets");
  });
}

json create_subnet(RequestContext& ctx, const json& in) {
  std::string vpc_id = in["VpcId"];
  if (!in.contains("CidrBlock")) throw ApiError("MissingParameter", "The request must contain the parameter cidrBlock");
  std::string cidr_text = in["CidrBlock"];
  auto cidr = domain::parse_cidr(cidr_text);
  if (!cidr)
    throw ApiError("InvalidParameterValue",
                   "Value (" + cidr_text + ") for parameter cidrBlock is invalid. This is not a valid CIDR block.");
  store::Tags tags = tag_specifications(in, "subnet");
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    auto vpc = store::VpcRepo(db).find(ctx.scope, vpc_id);
    if (!vpc) throw ApiError("InvalidVpcID.NotFound", "The vpc ID '" + vpc_id + "' does not exist");
    auto vpc_cidr = domain::parse_cidr(vpc->cidr);
    if (cidr->prefix < 16 || cidr->prefix > 28 || !vpc_cidr || !vpc_cidr->contains(*cidr))
      throw ApiError("InvalidSubnet.Range", "The CIDR '" + cidr_text + "' is invalid.");
    store::SubnetRepo repo(db);
    auto siblings = repo.list_in_vpc(vpc_id);
    for (const auto& s : siblings) {
      auto other = domain::parse_cidr(s.cidr);
      if (other && other->overlaps(*cidr))
        throw ApiError("InvalidSubnet.Conflict", "The CIDR '" + cidr_text + "' conflicts with another subnet");
    }
    auto zone = choose_zone(ctx, in, siblings);
    store::SubnetRow subnet =
        domain::new_subnet(ctx.scope, domain::new_id("subnet"), vpc_id, zone, *cidr, false, ctx.now);
    repo.insert(ctx.scope, subnet);
    store::Ec2TagRepo(db).put(ctx.scope, subnet.id, "subnet", tags);
    return json{{"Subnet", view(subnet, tags, 0)}};
  });
}

json delete_subnet(RequestContext& ctx, const json& in) {
  std::string id = in["SubnetId"];
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::SubnetRepo repo(db);
    if (!repo.find(ctx.scope, id))
      throw ApiError("InvalidSubnetID.NotFound", "The subnet ID '" + id + "' does not exist");
    if (interfaces_per_subnet(db, ctx.scope)[id] > 0)
      throw ApiError("DependencyViolation", "The subnet '" + id + "' has dependencies and cannot be deleted.");
    store::Ec2TagRepo(db).remove_all(id);
    repo.remove(id);
    return json::object();
  });
}

}  // namespace ecsd::services::ec2
