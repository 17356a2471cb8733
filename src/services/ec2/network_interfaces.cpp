// EC2 DescribeNetworkInterfaces: the ENIs of awsvpc ECS tasks. An interface is reported while its
// task's ElasticNetworkInterface attachment is ATTACHED and disappears when the task stops.
#include <algorithm>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/services/ec2/ec2.hpp"
#include "ecsd/services/ec2/filters.hpp"

namespace ecsd::services::ec2 {

namespace {

// clang-format off
const FilterNames kInterfaceFilters = {
    "addresses.private-ip-address", "addresses.primary", "addresses.association.public-ip",
    "addresses.association.owner-id", "association.association-id", "association.allocation-id",
    "association.ip-owner-id", "association.public-ip", "association.public-dns-name",
    "attachment.attachment-id", "attachment.attach-time", "attachment.delete-on-termination",
    "attachment.device-index", "attachment.instance-id", "attachment.instance-owner-id", "attachment.status",
    "availability-zone", "description", "group-id", "group-name", "ipv6-addresses.ipv6-address",
    "interface-type", "mac-address", "network-interface-id", "owner-id", "private-dns-name",
    "private-ip-address", "requester-id", "requester-managed", "source-dest-check", "status", "subnet-id",
    "tag-key", "tag-value", "vpc-id"};
// clang-format on

json view(store::Db& db, const RequestContext& ctx, const domain::TaskInterface& eni, const store::Tags& tags) {
  auto subnet = store::SubnetRepo(db).find(ctx.scope, eni.subnet_id);
  std::string vpc_id = subnet ? subnet->vpc_id : "";
  std::string az = subnet ? subnet->az : eni.availability_zone;
  // Without security groups in its configuration a task gets its VPC's default group.
  std::vector<std::string> group_ids = eni.security_groups;
  if (group_ids.empty() && !vpc_id.empty())
    if (auto d = domain::default_security_group(db, ctx.scope, vpc_id); !d.empty()) group_ids.push_back(d);
  json groups = json::array();
  store::SecurityGroupRepo sg_repo(db);
  for (const auto& id : group_ids) {
    auto g = sg_repo.find(ctx.scope, id);
    groups.push_back({{"GroupId", id}, {"GroupName", g ? g->name : ""}});
  }
  json attachment = {{"AttachmentId", "ela-attach-" + eni.id.substr(4)},
                     {"DeleteOnTermination", false},
                     {"DeviceIndex", 1},
                     {"NetworkCardIndex", 0},
                     {"InstanceOwnerId", "amazon-aws"},
                     {"Status", "attached"}};
  if (eni.attach_time > 0) attachment["AttachTime"] = eni.attach_time;
  json out = {
      {"Attachment", attachment},
      {"AvailabilityZone", az},
      {"Description", arn::make("ecs", ctx.scope.region, ctx.scope.account, "attachment/" + eni.attachment_id)},
      {"Groups", groups},
      {"InterfaceType", "interface"},
      {"Ipv6Addresses", json::array()},
      {"MacAddress", eni.mac_address},
      {"NetworkInterfaceId", eni.id},
      {"OwnerId", ctx.scope.account},
      {"PrivateDnsName", eni.private_dns_name},
      {"PrivateIpAddress", eni.private_ip},
      {"PrivateIpAddresses",
       json::array(
           {{{"Primary", true}, {"PrivateDnsName", eni.private_dns_name}, {"PrivateIpAddress", eni.private_ip}}})},
      {"RequesterManaged", true},
      {"SourceDestCheck", true},
      {"Status", "in-use"},
      {"SubnetId", eni.subnet_id},
      {"TagSet", tag_list(tags)},
      {"VpcId", vpc_id},
      {"Ipv6Native", false}};
  if (subnet && subnet->doc.contains("AvailabilityZoneId"))
    out["AvailabilityZoneId"] = subnet->doc["AvailabilityZoneId"];
  return out;
}

FilterValues filter_values(const json& v, const store::Tags& tags) {
  const json& att = v["Attachment"];
  FilterValues f = {{"addresses.private-ip-address", {v["PrivateIpAddress"]}},
                    {"addresses.primary", {"true"}},
                    {"attachment.attachment-id", {att["AttachmentId"]}},
                    {"attachment.delete-on-termination", {bool_value(att["DeleteOnTermination"])}},
                    {"attachment.device-index", {std::to_string(att["DeviceIndex"].get<int>())}},
                    {"attachment.instance-owner-id", {att["InstanceOwnerId"]}},
                    {"attachment.status", {att["Status"]}},
                    {"availability-zone", {v["AvailabilityZone"]}},
                    {"description", {v["Description"]}},
                    {"interface-type", {v["InterfaceType"]}},
                    {"mac-address", {v["MacAddress"]}},
                    {"network-interface-id", {v["NetworkInterfaceId"]}},
                    {"owner-id", {v["OwnerId"]}},
                    {"private-dns-name", {v["PrivateDnsName"]}},
                    {"private-ip-address", {v["PrivateIpAddress"]}},
                    {"requester-managed", {bool_value(v["RequesterManaged"])}},
                    {"source-dest-check", {bool_value(v["SourceDestCheck"])}},
                    {"status", {v["Status"]}},
                    {"subnet-id", {v["SubnetId"]}},
                    {"vpc-id", {v["VpcId"]}}};
  for (const auto& g : v["Groups"]) {
    f["group-id"].push_back(g["GroupId"]);
    f["group-name"].push_back(g["GroupName"]);
  }
  add_tag_values(f, tags);
  return f;
}

}  // namespace

json describe_network_interfaces(RequestContext& ctx, const json& in) {
  Filters filters(in.value("Filters", json()), kInterfaceFilters);
  auto ids = strings(in, "NetworkInterfaceIds");
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::Ec2TagRepo tags(db);
    json out = json::array();
    std::set<std::string> found;
    for (const auto& eni : domain::task_interfaces(db, ctx.scope)) {
      if (!eni.attached) continue;
      if (!ids.empty() && std::find(ids.begin(), ids.end(), eni.id) == ids.end()) continue;
      found.insert(eni.id);
      auto t = tags.get(eni.id);
      json v = view(db, ctx, eni, t);
      if (filters.matches(filter_values(v, t))) out.push_back(std::move(v));
    }
    require_found(ids, found, "InvalidNetworkInterfaceID.NotFound", "networkInterface ID");
    return page(std::move(out), in, "NetworkInterfaces");
  });
}

}  // namespace ecsd::services::ec2
