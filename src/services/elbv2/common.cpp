// Lookups, tags, paging and attributes shared by the ELBv2 handlers, and ELBv2's dispatch table.
#include <algorithm>
#include <set>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/domain/elb.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"

namespace ecsd::services::elbv2 {

std::string elb_arn(const RequestContext& ctx, const std::string& resource) {
  return arn::make("elasticloadbalancing", ctx.scope.region, ctx.scope.account, resource);
}

bool in_scope(const RequestContext& ctx, const std::string& arn_s) {
  auto a = arn::parse(arn_s);
  return a && a->service == "elasticloadbalancing" && a->region == ctx.scope.region &&
         a->account == ctx.scope.account;
}

store::LoadBalancerRow require_load_balancer(store::Db& db, const RequestContext& ctx, const std::string& arn_s) {
  auto lb = in_scope(ctx, arn_s) ? store::LoadBalancerRepo(db).find_by_arn(arn_s) : std::nullopt;
  if (!lb) throw ApiError("LoadBalancerNotFound", "Load balancer '" + arn_s + "' not found");
  return *lb;
}

store::TargetGroupRow require_target_group(store::Db& db, const RequestContext& ctx, const std::string& arn_s) {
  auto tg = in_scope(ctx, arn_s) ? store::TargetGroupRepo(db).find_by_arn(arn_s) : std::nullopt;
  if (!tg) throw ApiError("TargetGroupNotFound", "Target groups '" + arn_s + "' not found");
  return *tg;
}

store::ListenerRow require_listener(store::Db& db, const RequestContext& ctx, const std::string& arn_s) {
  auto l = in_scope(ctx, arn_s) ? store::ListenerRepo(db).find_by_arn(arn_s) : std::nullopt;
  if (!l) throw ApiError("ListenerNotFound", "Listener '" + arn_s + "' not found");
  return *l;
}

store::RuleRow require_rule(store::Db& db, const RequestContext& ctx, const std::string& arn_s) {
  auto r = in_scope(ctx, arn_s) ? store::RuleRepo(db).find_by_arn(arn_s) : std::nullopt;
  if (!r) throw ApiError("RuleNotFound", "One or more rules not found");
  return *r;
}

store::Tags tags_from(const json& tags) {
  store::Tags out;
  if (!tags.is_array()) return out;
  std::set<std::string> seen;
  for (const auto& t : tags) {
    std::string key = t.value("Key", "");
    if (!seen.insert(key).second) throw ApiError("DuplicateTagKeys", "Tag key was specified more than once: " + key);
    if (key.rfind("aws:", 0) == 0)
      throw ApiError("ValidationError", "Tag keys beginning with 'aws:' are reserved for AWS use: " + key);
    out.emplace_back(key, t.value("Value", ""));
  }
  if (out.size() > static_cast<std::size_t>(kMaxTagsPerResource))
    throw ApiError("TooManyTags", "The quota for the number of tags that can be assigned to a resource has been reached");
  return out;
}

json tags_json(const store::Tags& tags) {
  json out = json::array();
  for (const auto& [k, v] : tags) out.push_back({{"Key", k}, {"Value", v}});
  return out;
}

void put_tags(store::Db& db, const std::string& arn_s, const store::Tags& tags) {
  store::TagRepo repo(db);
  std::set<std::string> keys;
  for (const auto& [k, v] : repo.get(arn_s)) keys.insert(k);
  for (const auto& [k, v] : tags) keys.insert(k);
  if (keys.size() > static_cast<std::size_t>(kMaxTagsPerResource))
    throw ApiError("TooManyTags", "The quota for the number of tags that can be assigned to a resource has been reached");
  repo.put(arn_s, tags);
}

json page(const json& in, const json& items, const char* key) {
  std::size_t size = static_cast<std::size_t>(in.value("PageSize", 400));
  std::size_t offset = in.contains("Marker") ? static_cast<std::size_t>(decode_token(in["Marker"], "ValidationError")) : 0;
  json out = {{key, json::array()}};
  for (std::size_t i = offset; i < items.size() && i < offset + size; ++i) out[key].push_back(items[i]);
  if (offset + size < items.size()) out["NextMarker"] = encode_token(static_cast<std::int64_t>(offset + size));
  return out;
}

json attribute_defaults(const std::vector<AttributeSpec>& specs) {
  json out = json::object();
  for (const auto& s : specs) out[s.key] = s.default_value;
  return out;
}

namespace {
bool parse_long(const std::string& s, long& out) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stol(s);
  return true;
}

// @return "" when `value` is valid for `spec`, else the reason.
std::string attribute_problem(const AttributeSpec& spec, const std::string& value) {
  long n = 0;
  auto range = [&] { return "between " + std::to_string(spec.lo) + " and " + std::to_string(spec.hi); };
  switch (spec.kind) {
    case AttributeSpec::kBool:
      return value == "true" || value == "false" ? "" : "must be 'true' or 'false'";
    case AttributeSpec::kInt:
      return parse_long(value, n) && n >= spec.lo && n <= spec.hi ? "" : "must be an integer " + range();
    case AttributeSpec::kCountOrOff:
    case AttributeSpec::kPercentOrOff:
      if (value == "off") return "";
      return parse_long(value, n) && n >= spec.lo && n <= spec.hi ? "" : "must be 'off' or an integer " + range();
    case AttributeSpec::kEnum: {
      if (std::find(spec.values.begin(), spec.values.end(), value) != spec.values.end()) return "";
      std::string set;
      for (const auto& v : spec.values) set += (set.empty() ? "" : ", ") + v;
      return "must be one of [" + set + "]";
    }
    case AttributeSpec::kText:
      return value.size() <= 1024 ? "" : "must be at most 1024 characters";
  }
  return "";
}
}  // namespace

void apply_attributes(json& current, const json& changes, const std::vector<AttributeSpec>& specs,
                      const std::string& what) {
  json next = current;
  for (const auto& c : changes) {
    std::string key = c.value("Key", ""), value = c.value("Value", "");
    auto spec = std::find_if(specs.begin(), specs.end(), [&](const AttributeSpec& s) { return s.key == key; });
    if (spec == specs.end())
      throw ApiError("ValidationError", what + " attribute key '" + key + "' is not recognized");
    if (auto problem = attribute_problem(*spec, value); !problem.empty())
      throw ApiError("ValidationError", what + " attribute '" + key + "' value '" + value + "' " + problem);
    next[key] = value;
  }
  current = std::move(next);
}

json attributes_json(const json& current) {
  json out = json::array();
  for (auto it = current.begin(); it != current.end(); ++it) out.push_back({{"Key", it.key()}, {"Value", it.value()}});
  return out;
}

void set_forwards(store::Db& db, std::int64_t rule_id, const std::vector<store::RuleTargetGroup>& forwards,
                  double now) {
  store::RuleRepo rules(db);
  std::set<std::int64_t> touched;
  for (auto id : rules.target_group_ids(rule_id)) touched.insert(id);
  for (const auto& f : forwards) touched.insert(f.target_group_id);
  rules.set_target_groups(rule_id, forwards);
  store::TargetGroupRepo groups(db);
  for (auto id : touched)
    if (auto g = groups.find_by_id(id)) domain::elb::refresh_targets(db, *g, now);
}

void remove_listener(store::Db& db, const store::ListenerRow& listener, double now) {
  store::RuleRepo rules(db);
  store::TagRepo tags(db);
  std::set<std::int64_t> touched;
  for (const auto& r : rules.list(listener.id)) {
    for (auto id : rules.target_group_ids(r.id)) touched.insert(id);
    tags.remove_all(r.arn);
  }
  tags.remove_all(listener.arn);
  store::ListenerRepo(db).remove(listener.id);  // cascades to rules and their rule_target_groups
  store::TargetGroupRepo groups(db);
  for (auto id : touched)
    if (auto g = groups.find_by_id(id)) domain::elb::refresh_targets(db, *g, now);
}

ServiceApi make_api() {
  ServiceApi api;
  api.model = &model::get("elbv2");
  api.validation_code = "ValidationError";
  api.handlers = {
      {"CreateLoadBalancer", create_load_balancer},
      {"DescribeLoadBalancers", describe_load_balancers},
      {"DeleteLoadBalancer", delete_load_balancer},
      {"DescribeLoadBalancerAttributes", describe_load_balancer_attributes},
      {"ModifyLoadBalancerAttributes", modify_load_balancer_attributes},
      {"CreateTargetGroup", create_target_group},
      {"DescribeTargetGroups", describe_target_groups},
      {"ModifyTargetGroup", modify_target_group},
      {"DeleteTargetGroup", delete_target_group},
      {"DescribeTargetGroupAttributes", describe_target_group_attributes},
      {"ModifyTargetGroupAttributes", modify_target_group_attributes},
      {"CreateListener", create_listener},
      {"DescribeListeners", describe_listeners},
      {"ModifyListener", modify_listener},
      {"DeleteListener", delete_listener},
      {"CreateRule", create_rule},
      {"DescribeRules", describe_rules},
      {"ModifyRule", modify_rule},
      {"DeleteRule", delete_rule},
      {"SetRulePriorities", set_rule_priorities},
      {"RegisterTargets", register_targets},
      {"DeregisterTargets", deregister_targets},
      {"DescribeTargetHealth", describe_target_health},
      {"AddTags", add_tags},
      {"RemoveTags", remove_tags},
      {"DescribeTags", describe_tags},
      {"DescribeAccountLimits", describe_account_limits},
      {"DescribeSSLPolicies", describe_ssl_policies},
  };
  return api;
}

}  // namespace ecsd::services::elbv2
