// EC2 tag handlers: CreateTags, DeleteTags, DescribeTags, for VPCs, subnets, security groups,
// security group rules and task network interfaces.
#include <algorithm>

#include "ecsd/common/api_error.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/services/ec2/ec2.hpp"
#include "ecsd/services/ec2/filters.hpp"

namespace ecsd::services::ec2 {

namespace {

const FilterNames kTagFilters = {"key", "resource-id", "resource-type", "value"};

bool interface_exists(store::Db& db, const RequestContext& ctx, const std::string& id) {
  for (const auto& eni : domain::task_interfaces(db, ctx.scope))
    if (eni.id == id && eni.attached) return true;
  return false;
}

// @return the resource type of `id`. @throws ApiError with EC2's not-found code when it does not exist.
std::string require_resource(store::Db& db, const RequestContext& ctx, const std::string& id) {
  std::string type = resource_type_of(id);
  if (type == "vpc") {
    if (!store::VpcRepo(db).find(ctx.scope, id))
      throw ApiError("InvalidVpcID.NotFound", "The vpc ID '" + id + "' does not exist");
  } else if (type == "subnet") {
    if (!store::SubnetRepo(db).find(ctx.scope, id))
      throw ApiError("InvalidSubnetID.NotFound", "The subnet ID '" + id + "' does not exist");
  } else if (type == "security-group") {
    if (!store::SecurityGroupRepo(db).find(ctx.scope, id))
      throw ApiError("InvalidGroup.NotFound", "The security group '" + id + "' does not exist");
  } else if (type == "security-group-rule") {
    auto rules = store::SecurityGroupRepo(db).all_rules(ctx.scope);
    if (std::none_of(rules.begin(), rules.end(), [&](const auto& r) { return r.id == id; }))
      throw ApiError("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '" + id + "' does not exist");
  } else if (type == "network-interface") {
    if (!interface_exists(db, ctx, id))
      throw ApiError("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '" + id + "' does not exist");
  } else {
    throw ApiError("InvalidID", "The ID '" + id + "' is not valid");
  }
  return type;
}

}  // namespace

json create_tags(RequestContext& ctx, const json& in) {
  auto resources = strings(in, "Resources");
  store::Tags tags;
  for (const auto& t : in["Tags"]) {
    std::string key = t.value("Key", "");
    check_tag_key(key);
    tags.emplace_back(key, t.value("Value", ""));
  }
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::Ec2TagRepo repo(db);
    for (const auto& id : resources) {
      std::string type = require_resource(db, ctx, id);
      repo.put(ctx.scope, id, type, tags);
    }
    return json::object();
  });
}

json delete_tags(RequestContext& ctx, const json& in) {
  auto resources = strings(in, "Resources");
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::Ec2TagRepo repo(db);
    for (const auto& id : resources) {
      require_resource(db, ctx, id);
      if (!in.contains("Tags")) {
        repo.remove_all(id);
        continue;
      }
      // A tag given with a value (even "") is only removed when it has that value.
      for (const auto& t : in["Tags"])
        repo.remove(id, t.value("Key", ""),
                    t.contains("Value") ? std::optional<std::string>(t["Value"].get<std::string>()) : std::nullopt);
    }
    return json::object();
  });
}

json describe_tags(RequestContext& ctx, const json& in) {
  Filters filters(in.value("Filters", json()), kTagFilters);
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    std::set<std::string> interfaces;
    for (const auto& eni : domain::task_interfaces(db, ctx.scope))
      if (eni.attached) interfaces.insert(eni.id);
    json out = json::array();
    for (const auto& t : store::Ec2TagRepo(db).list(ctx.scope)) {
      // A task's interface goes away with the task; its tags are no longer reported.
      if (t.resource_type == "network-interface" && !interfaces.count(t.resource_id)) continue;
      FilterValues f = {{"key", {t.key}},
                        {"value", {t.value}},
                        {"resource-id", {t.resource_id}},
                        {"resource-type", {t.resource_type}},
                        {"tag:" + t.key, {t.value}}};
      if (filters.matches(f))
        out.push_back(
            {{"Key", t.key}, {"ResourceId", t.resource_id}, {"ResourceType", t.resource_type}, {"Value", t.value}});
    }
    return page(std::move(out), in, "Tags");
  });
}

}  // namespace ecsd::services::ec2
