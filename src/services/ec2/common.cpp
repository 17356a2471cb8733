// Helpers shared by the EC2 handlers, and EC2's dispatch table.
#include "ecsd/common/api_error.hpp"
#include "ecsd/services/ec2/ec2.hpp"

namespace ecsd::services::ec2 {

std::vector<std::string> strings(const json& in, const char* name) {
  std::vector<std::string> out;
  if (auto it = in.find(name); it != in.end() && it->is_array())
    for (const auto& s : *it)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

json tag_list(const store::Tags& tags) {
  json out = json::array();
  for (const auto& [k, v] : tags) out.push_back({{"Key", k}, {"Value", v}});
  return out;
}

void check_tag_key(const std::string& key) {
  if (key.empty()) throw ApiError("InvalidParameterValue", "Tag keys cannot be empty.");
  if (key.size() > 128) throw ApiError("InvalidParameterValue", "Tag key exceeds the maximum length of 128 characters");
  if (key.rfind("aws:", 0) == 0)
    throw ApiError("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use");
}

store::Tags tag_specifications(const json& in, const std::string& resource_type) {
  store::Tags out;
  for (const auto& spec : in.value("TagSpecifications", json::array())) {
    std::string type = spec.value("ResourceType", "");
    if (type != resource_type)
      throw ApiError("InvalidParameterValue",
                     "'" + type + "' is not a valid taggable resource type for this operation.");
    for (const auto& t : spec.value("Tags", json::array())) {
      std::string key = t.value("Key", "");
      check_tag_key(key);
      out.emplace_back(key, t.value("Value", ""));
    }
  }
  return out;
}

std::string resource_type_of(const std::string& id) {
  static const std::pair<const char*, const char*> kPrefixes[] = {{"vpc-", "vpc"},
                                                                  {"subnet-", "subnet"},
                                                                  {"sg-", "security-group"},
                                                                  {"sgr-", "security-group-rule"},
                                                                  {"eni-", "network-interface"}};
  for (const auto& [prefix, type] : kPrefixes)
    if (id.rfind(prefix, 0) == 0) return type;
  return "";
}

json page(json items, const json& in, const char* key) {
  std::size_t start = 0;
  if (in.contains("NextToken"))
    start = static_cast<std::size_t>(decode_token(in["NextToken"].get<std::string>(), "InvalidPaginationToken"));
  std::size_t limit = in.contains("MaxResults") ? in["MaxResults"].get<std::size_t>() : items.size();
  json out = {{key, json::array()}};
  for (std::size_t i = start; i < items.size() && i < start + limit; ++i) out[key].push_back(std::move(items[i]));
  if (start + limit < items.size()) out["NextToken"] = encode_token(static_cast<std::int64_t>(start + limit));
  return out;
}

void require_found(const std::vector<std::string>& ids, const std::set<std::string>& found, const char* code,
                   const std::string& what) {
  for (const auto& id : ids)
    if (!found.count(id)) throw ApiError(code, "The " + what + " '" + id + "' does not exist");
}

namespace {
// EC2 answers DryRun=true requests with DryRunOperation (HTTP 412) instead of acting.
Handler dry_run_aware(Handler h) {
  return [h = std::move(h)](RequestContext& ctx, const json& in) -> json {
    if (in.value("DryRun", false))
      throw ApiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
    return h(ctx, in);
  };
}
}  // namespace

ServiceApi make_api() {
  ServiceApi api;
  api.model = &model::get("ec2");
  api.validation_code = "InvalidParameterValue";
  std::pair<const char*, Handler> handlers[] = {
      {"DescribeVpcs", describe_vpcs},
      {"CreateVpc", create_vpc},
      {"DeleteVpc", delete_vpc},
      {"DescribeSubnets", describe_subnets},
      {"CreateSubnet", create_subnet},
      {"DeleteSubnet", delete_subnet},
      {"DescribeAvailabilityZones", describe_availability_zones},
      {"DescribeAccountAttributes", describe_account_attributes},
      {"CreateSecurityGroup", create_security_group},
      {"DeleteSecurityGroup", delete_security_group},
      {"DescribeSecurityGroups", describe_security_groups},
      {"AuthorizeSecurityGroupIngress", authorize_security_group_ingress},
      {"AuthorizeSecurityGroupEgress", authorize_security_group_egress},
      {"RevokeSecurityGroupIngress", revoke_security_group_ingress},
      {"RevokeSecurityGroupEgress", revoke_security_group_egress},
      {"DescribeSecurityGroupRules", describe_security_group_rules},
      {"CreateTags", create_tags},
      {"DeleteTags", delete_tags},
      {"DescribeTags", describe_tags},
      {"DescribeNetworkInterfaces", describe_network_interfaces},
  };
  for (auto& [name, h] : handlers) api.handlers.emplace(name, dry_run_aware(std::move(h)));
  return api;
}

}  // namespace ecsd::services::ec2
