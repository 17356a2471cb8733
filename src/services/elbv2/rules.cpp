// ELBv2 listener rule handlers: CreateRule, DescribeRules, ModifyRule, DeleteRule, SetRulePriorities.
//
// Conditions come back normalized, so the data plane reads one form: host-header and path-pattern
// carry both the legacy Values and their *Config; the other fields carry their *Config only.
// DescribeRules lists a listener's default rule last (Priority "default", IsDefault true).
#include <arpa/inet.h>

#include <map>
#include <regex>
#include <set>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"

namespace ecsd::services::elbv2 {

namespace {

constexpr int kMaxConditionValues = 5;
constexpr std::size_t kMaxValueLength = 128;

// Condition field -> the *Config member that goes with it.
const std::map<std::string, std::string> kConfigOf = {
    {"host-header", "HostHeaderConfig"},         {"path-pattern", "PathPatternConfig"},
    {"http-header", "HttpHeaderConfig"},         {"http-request-method", "HttpRequestMethodConfig"},
    {"query-string", "QueryStringConfig"},       {"source-ip", "SourceIpConfig"}};

bool valid_cidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return false;
  std::string addr = s.substr(0, slash), bits = s.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos) return false;
  int prefix = std::stoi(bits);
  unsigned char buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) return prefix <= 32;
  return inet_pton(AF_INET6, addr.c_str(), buf) == 1 && prefix <= 128;
}

std::vector<std::string> non_empty_values(const json& values, const std::string& field) {
  std::vector<std::string> out;
  if (values.is_array())
    for (const auto& v : values) out.push_back(v.get<std::string>());
  if (out.empty()) throw ApiError("ValidationError", "A condition value must be specified for '" + field + "'");
  for (const auto& v : out)
    if (v.size() > kMaxValueLength)
      throw ApiError("ValidationError", "The '" + field + "' value is too long; the limit is '128'");
  return out;
}

// One condition, checked and normalized; `values` counts toward the per-rule limit.
json check_condition(const json& c, int& values) {
  if (!c.contains("Field")) throw ApiError("ValidationError", "A condition field must be specified");
  std::string field = c["Field"];
  auto cfg = kConfigOf.find(field);
  if (cfg == kConfigOf.end())
    throw ApiError("ValidationError", "Condition field '" + field +
                                          "' must be one of '[http-header, http-request-method, host-header, "
                                          "path-pattern, query-string, source-ip]'");
  for (const auto& [f, member] : kConfigOf)
    if (f != field && c.contains(member))
      throw ApiError("ValidationError", "'" + member + "' cannot be specified with the condition field '" + field + "'");
  const std::string& member = cfg->second;
  json config = c.value(member, json::object());
  if (c.contains("RegexValues") || config.contains("RegexValues"))
    throw ApiError("InvalidConfigurationRequest", "ecsd does not support RegexValues in rule conditions");
  bool legacy = c.contains("Values") && !c["Values"].empty();
  json out = {{"Field", field}};
  if (field == "host-header" || field == "path-pattern") {
    if (legacy && c.contains(member))
      throw ApiError("ValidationError", "You cannot provide both Values and '" + member +
                                            "' for a condition of type '" + field + "'");
    if (legacy && c["Values"].size() > 1)
      throw ApiError("ValidationError", "The '" + field + "' field contains too many values; the limit is '1'");
    auto list = non_empty_values(legacy ? c["Values"] : config.value("Values", json::array()), field);
    static const std::regex kHost(R"(^[A-Za-z0-9.*?-]+$)");
    if (field == "host-header")
      for (const auto& v : list)
        if (!std::regex_match(v, kHost))
          throw ApiError("ValidationError", "The 'host-header' value '" + v +
                                                "' can contain only A-Z, a-z, 0-9, '-', '.', '*' and '?'");
    values += static_cast<int>(list.size());
    out["Values"] = list;
    out[member] = {{"Values", list}};
    return out;
  }
  if (legacy) throw ApiError("ValidationError", "The 'Values' field is not compatible with '" + field + "'");
  if (!c.contains(member))
    throw ApiError("ValidationError", "A '" + member + "' must be specified with '" + field + "'");
  if (field == "http-header") {
    std::string name = config.value("HttpHeaderName", "");
    static const std::regex kToken(R"(^[A-Za-z0-9!#$%&'*+.^_`|~-]+$)");
    if (name.empty() || name.size() > 40 || !std::regex_match(name, kToken))
      throw ApiError("ValidationError", "The 'HttpHeaderName' value '" + name +
                                            "' must be an HTTP header name of at most 40 characters");
    auto list = non_empty_values(config.value("Values", json::array()), field);
    values += static_cast<int>(list.size());
    out[member] = {{"HttpHeaderName", name}, {"Values", list}};
  } else if (field == "http-request-method") {
    auto list = non_empty_values(config.value("Values", json::array()), field);
    static const std::regex kMethod("^[A-Z_-]{1,40}$");
    for (const auto& v : list)
      if (!std::regex_match(v, kMethod))
        throw ApiError("ValidationError", "The 'http-request-method' value '" + v +
                                              "' is invalid; the allowed characters are A-Z, hyphen and underscore");
    values += static_cast<int>(list.size());
    out[member] = {{"Values", list}};
  } else if (field == "query-string") {
    json pairs = json::array();
    for (const auto& p : config.value("Values", json::array())) {
      if (!p.contains("Value"))
        throw ApiError("ValidationError", "A 'Value' must be specified in 'QueryStringKeyValuePair'");
      json pair = {{"Value", p["Value"]}};
      if (p.contains("Key")) pair["Key"] = p["Key"];
      if (p["Value"].get<std::string>().size() > kMaxValueLength || p.value("Key", "").size() > kMaxValueLength)
        throw ApiError("ValidationError", "The 'query-string' key or value is too long; the limit is '128'");
      pairs.push_back(pair);
    }
    if (pairs.empty()) throw ApiError("ValidationError", "A condition value must be specified for 'query-string'");
    values += static_cast<int>(pairs.size());
    out[member] = {{"Values", pairs}};
  } else {  // source-ip
    auto list = non_empty_values(config.value("Values", json::array()), field);
    for (const auto& v : list)
      if (!valid_cidr(v))
        throw ApiError("ValidationError", "The 'source-ip' value '" + v + "' is not a valid CIDR block");
    values += static_cast<int>(list.size());
    out[member] = {{"Values", list}};
  }
  return out;
}

json check_conditions(const json& conditions) {
  if (!conditions.is_array() || conditions.empty())
    throw ApiError("ValidationError", "A rule must have at least one condition");
  json out = json::array();
  std::set<std::string> once;
  int values = 0;
  for (const auto& c : conditions) {
    json n = check_condition(c, values);
    std::string field = n["Field"];
    if (field != "http-header" && field != "query-string" && !once.insert(field).second)
      throw ApiError("ValidationError", "A rule can contain only one '" + field + "' condition");
    out.push_back(std::move(n));
  }
  if (values > kMaxConditionValues)
    throw ApiError("ValidationError", "A rule can only have '" + std::to_string(kMaxConditionValues) +
                                          "' condition values");
  return out;
}

void refuse_transforms(const json& in) {
  if (!in.value("Transforms", json::array()).empty())
    throw ApiError("InvalidConfigurationRequest", "ecsd does not support rule transforms");
}

json view(const store::RuleRow& r) {
  return {{"RuleArn", r.arn},
          {"Priority", r.priority ? std::to_string(*r.priority) : std::string("default")},
          {"Conditions", r.doc.value("Conditions", json::array())},
          {"Actions", r.doc.value("Actions", json::array())},
          {"IsDefault", r.is_default()}};
}

struct Owner {
  store::ListenerRow listener;
  store::LoadBalancerRow load_balancer;
};

Owner owner_of(store::Db& db, std::int64_t listener_id) {
  auto l = store::ListenerRepo(db).find_by_id(listener_id);
  auto lb = store::LoadBalancerRepo(db).find_by_id(l->load_balancer_id);
  return {std::move(*l), std::move(*lb)};
}

}  // namespace

json create_rule(RequestContext& ctx, const json& in) {
  refuse_transforms(in);
  store::Tags tags = tags_from(in.value("Tags", json::array()));
  std::string lb_arn;
  json out = ctx.store.write([&](store::Db& db) {
    auto l = require_listener(db, ctx, in.at("ListenerArn"));
    auto [listener, lb] = owner_of(db, l.id);
    lb_arn = lb.arn;
    if (lb.type != "application")
      throw ApiError("UnsupportedProtocol",
                     "Listener protocol '" + l.protocol + "' does not support rules other than the default rule");
    json conditions = check_conditions(in.at("Conditions"));
    std::vector<store::RuleTargetGroup> forwards;
    json actions = check_actions(db, ctx, in.at("Actions"), lb, l.protocol, forwards);
    int priority = in.at("Priority");
    store::RuleRepo rules(db);
    if (rules.find_by_priority(l.id, priority))
      throw ApiError("PriorityInUse", "Priority '" + std::to_string(priority) + "' is currently in use");
    if (rules.count_for_load_balancer(lb.id) >= kMaxRulesPerLoadBalancer)
      throw ApiError("TooManyRules", "The quota for the number of rules per load balancer has been reached");
    store::RuleRow r;
    r.listener_id = l.id;
    r.priority = priority;
    r.arn = elb_arn(ctx, "listener-rule/" + arn::parse(l.arn)->resource.substr(9) + "/" + ids::hex(16));
    r.created_at = ctx.now;
    r.doc = {{"Conditions", conditions}, {"Actions", actions}};
    rules.insert(r);
    set_forwards(db, r.id, forwards, ctx.now);
    put_tags(db, r.arn, tags);
    return json{{"Rules", json::array({view(r)})}};
  });
  ctx.changed("load-balancer:" + lb_arn);
  return out;
}

json describe_rules(RequestContext& ctx, const json& in) {
  bool by_listener = in.contains("ListenerArn"), by_arn = in.contains("RuleArns");
  if (!by_listener && !by_arn)
    throw ApiError("ValidationError", "You must specify either listener rule ARNs or a listener ARN");
  if (by_listener && by_arn)
    throw ApiError("ValidationError", "Listener rule ARNs and a listener ARN cannot be specified at the same time");
  return ctx.store.read([&](store::Db& db) {
    json items = json::array();
    if (by_listener) {
      for (const auto& r : store::RuleRepo(db).list(require_listener(db, ctx, in["ListenerArn"]).id))
        items.push_back(view(r));
    } else {
      std::set<std::string> seen;
      for (const auto& a : in["RuleArns"].get<std::vector<std::string>>())
        if (seen.insert(a).second) items.push_back(view(require_rule(db, ctx, a)));
    }
    return page(in, items, "Rules");
  });
}

json modify_rule(RequestContext& ctx, const json& in) {
  refuse_transforms(in);
  bool has_conditions = !in.value("Conditions", json::array()).empty();
  bool has_actions = !in.value("Actions", json::array()).empty();
  std::string lb_arn;
  json out = ctx.store.write([&](store::Db& db) {
    auto r = require_rule(db, ctx, in.at("RuleArn"));
    auto [listener, lb] = owner_of(db, r.listener_id);
    lb_arn = lb.arn;
    if (r.is_default() && has_conditions)
      throw ApiError("OperationNotPermitted", "The conditions of a default rule cannot be modified");
    if (has_conditions) r.doc["Conditions"] = check_conditions(in["Conditions"]);
    if (has_actions) {
      std::vector<store::RuleTargetGroup> forwards;
      r.doc["Actions"] = check_actions(db, ctx, in["Actions"], lb, listener.protocol, forwards);
      set_forwards(db, r.id, forwards, ctx.now);
    }
    store::RuleRepo(db).update(r);
    return json{{"Rules", json::array({view(r)})}};
  });
  ctx.changed("load-balancer:" + lb_arn);
  return out;
}

json delete_rule(RequestContext& ctx, const json& in) {
  std::string lb_arn = ctx.store.write([&](store::Db& db) {
    auto r = require_rule(db, ctx, in.at("RuleArn"));
    if (r.is_default()) throw ApiError("OperationNotPermitted", "The default rule of a listener cannot be deleted");
    auto [listener, lb] = owner_of(db, r.listener_id);
    set_forwards(db, r.id, {}, ctx.now);
    store::TagRepo(db).remove_all(r.arn);
    store::RuleRepo(db).remove(r.id);
    return lb.arn;
  });
  ctx.changed("load-balancer:" + lb_arn);
  return json::object();
}

json set_rule_priorities(RequestContext& ctx, const json& in) {
  std::set<std::string> lb_arns;
  json out = ctx.store.write([&](store::Db& db) {
    store::RuleRepo rules(db);
    std::vector<store::RuleRow> changed;
    std::vector<std::pair<std::int64_t, int>> moves;
    std::set<std::string> arns;
    std::set<std::pair<std::int64_t, int>> taken;  // (listener, priority) asked for
    for (const auto& p : in.at("RulePriorities")) {
      if (!p.contains("RuleArn") || !p.contains("Priority"))
        throw ApiError("ValidationError", "Each rule priority pair needs a RuleArn and a Priority");
      std::string a = p["RuleArn"];
      int priority = p["Priority"];
      if (!arns.insert(a).second) throw ApiError("ValidationError", "Rule '" + a + "' was provided multiple times");
      auto r = require_rule(db, ctx, a);
      if (r.is_default())
        throw ApiError("OperationNotPermitted", "The priority of the default rule of a listener cannot be changed");
      if (!taken.insert({r.listener_id, priority}).second)
        throw ApiError("ValidationError", "Priority '" + std::to_string(priority) + "' was provided multiple times");
      moves.emplace_back(r.id, priority);
      r.priority = priority;
      changed.push_back(r);
    }
    // A priority is free when no rule holds it, or its holder moves away in this request.
    for (const auto& r : changed) {
      auto holder = rules.find_by_priority(r.listener_id, *r.priority);
      if (holder && !arns.count(holder->arn))
        throw ApiError("PriorityInUse", "Priority '" + std::to_string(*r.priority) + "' is currently in use");
      lb_arns.insert(owner_of(db, r.listener_id).load_balancer.arn);
    }
    rules.set_priorities(moves);
    json items = json::array();
    for (const auto& r : changed) items.push_back(view(*rules.find_by_arn(r.arn)));
    return json{{"Rules", items}};
  });
  for (const auto& a : lb_arns) ctx.changed("load-balancer:" + a);
  return out;
}

}  // namespace ecsd::services::elbv2
