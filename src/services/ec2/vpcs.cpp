// EC2 VPC handlers: DescribeVpcs, CreateVpc, DeleteVpc.
#include <algorithm>

#include "ecsd/common/api_error.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/services/ec2/ec2.hpp"
#include "ecsd/services/ec2/filters.hpp"

namespace ecsd::services::ec2 {

namespace {

// clang-format off
const FilterNames kVpcFilters = {
    "cidr", "cidr-block-association.cidr-block", "cidr-block-association.association-id",
    "cidr-block-association.state", "dhcp-options-id", "ipv6-cidr-block-association.ipv6-cidr-block",
    "ipv6-cidr-block-association.ipv6-pool", "ipv6-cidr-block-association.association-id",
    "ipv6-cidr-block-association.state", "is-default", "owner-id", "state", "tag-key", "tag-value", "vpc-id"};
// clang-format on

FilterValues filter_values(const store::VpcRow& v, const store::Tags& tags) {
  FilterValues f = {{"cidr", {v.cidr}},
                    {"dhcp-options-id", {v.doc.value("DhcpOptionsId", "")}},
                    {"is-default", {bool_value(v.is_default)}},
                    {"owner-id", {v.doc.value("OwnerId", "")}},
                    {"state", {v.doc.value("State", "")}},
                    {"vpc-id", {v.id}}};
  for (const auto& a : v.doc.value("CidrBlockAssociationSet", json::array())) {
    f["cidr-block-association.cidr-block"].push_back(a.value("CidrBlock", ""));
    f["cidr-block-association.association-id"].push_back(a.value("AssociationId", ""));
    f["cidr-block-association.state"].push_back(a["CidrBlockState"].value("State", ""));
  }
  add_tag_values(f, tags);
  return f;
}

json view(const store::VpcRow& v, const store::Tags& tags) {
  json out = v.doc;
  if (!tags.empty()) out["Tags"] = tag_list(tags);
  return out;
}

}  // namespace

json describe_vpcs(RequestContext& ctx, const json& in) {
  Filters filters(in.value("Filters", json()), kVpcFilters);
  auto ids = strings(in, "VpcIds");
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::Ec2TagRepo tags(db);
    json out = json::array();
    std::set<std::string> found;
    for (const auto& v : store::VpcRepo(db).list(ctx.scope)) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), v.id) == ids.end()) continue;
      found.insert(v.id);
      auto t = tags.get(v.id);
      if (filters.matches(filter_values(v, t))) out.push_back(view(v, t));
    }
    require_found(ids, found, "InvalidVpcID.NotFound", "vpc ID");
    return page(std::move(out), in, "Vpcs");
  });
}

json create_vpc(RequestContext& ctx, const json& in) {
  if (!in.contains("CidrBlock"))
    throw ApiError("MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.");
  std::string cidr_text = in["CidrBlock"];
  auto cidr = domain::parse_cidr(cidr_text);
  if (!cidr)
    throw ApiError("InvalidParameterValue",
                   "Value (" + cidr_text + ") for parameter cidrBlock is invalid. This is not a valid CIDR block.");
  if (cidr->prefix < 16 || cidr->prefix > 28)
    throw ApiError("InvalidVpc.Range", "The CIDR '" + cidr_text + "' is invalid.");
  store::Tags tags = tag_specifications(in, "vpc");
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::VpcRow vpc = domain::new_vpc(ctx.scope, domain::new_id("vpc"), *cidr, false, ctx.now);
    vpc.doc["InstanceTenancy"] = in.value("InstanceTenancy", "default");
    store::VpcRepo(db).insert(ctx.scope, vpc);
    domain::create_security_group(db, ctx.scope,
                                  domain::new_security_group(ctx.scope, domain::new_id("sg"), vpc.id, "default",
                                                             "default VPC security group", ctx.now));
    store::Ec2TagRepo(db).put(ctx.scope, vpc.id, "vpc", tags);
    json out = view(vpc, tags);
    out["State"] = "pending";  // as AWS answers; DescribeVpcs reports it available
    return json{{"Vpc", out}};
  });
}

json delete_vpc(RequestContext& ctx, const json& in) {
  std::string id = in["VpcId"];
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::VpcRepo vpcs(db);
    auto vpc = vpcs.find(ctx.scope, id);
    if (!vpc) throw ApiError("InvalidVpcID.NotFound", "The vpc ID '" + id + "' does not exist");
    store::SecurityGroupRepo groups(db);
    auto in_vpc = groups.list_in_vpc(id);
    bool only_default = std::all_of(in_vpc.begin(), in_vpc.end(), [](const auto& g) { return g.name == "default"; });
    if (!store::SubnetRepo(db).list_in_vpc(id).empty() || !only_default)
      throw ApiError("DependencyViolation", "The vpc '" + id + "' has dependencies and cannot be deleted.");
    store::Ec2TagRepo tags(db);
    for (const auto& g : in_vpc) {
      for (const auto& r : groups.rules(g.id)) tags.remove_all(r.id);
      tags.remove_all(g.id);
      groups.remove(g.id);
    }
    tags.remove_all(id);
    vpcs.remove(id);
    return json::object();
  });
}

}  // namespace ecsd::services::ec2
