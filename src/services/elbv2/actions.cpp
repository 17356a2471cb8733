// Listener and rule actions (forward, redirect, fixed-response): the checks ELB applies and the
// normalized form it returns, which is also what the data plane reads. A forward action always
// comes back with ForwardConfig (weights default to 1, stickiness off) and, when it forwards to a
// single target group, with TargetGroupArn too.
#include <set>

#include "ecsd/common/api_error.hpp"
#include "ecsd/domain/elb.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"

namespace ecsd::services::elbv2 {

namespace {

const std::set<std::string> kContentTypes = {"text/plain", "text/css", "text/html", "application/javascript",
                                             "application/json"};

// The target groups an action may forward to from a listener of `lb` with `protocol`.
void check_target_group(store::Db& db, const store::TargetGroupRow& g, const store::LoadBalancerRow& lb,
                        const std::string& protocol) {
  bool compatible = lb.type == "application"
                        ? (g.protocol == "HTTP" || g.protocol == "HTTPS" || g.target_type == "lambda")
                        : (g.protocol == "TCP" || (g.protocol == "TLS" && protocol == "TLS"));
  if (!compatible)
    throw ApiError("IncompatibleProtocols", "The target group '" + g.arn + "' with protocol '" +
                                                (g.protocol.empty() ? g.target_type : g.protocol) +
                                                "' cannot be used with a '" + protocol + "' listener of a load "
                                                "balancer of type '" + lb.type + "'");
  if (g.target_type != "lambda" && g.doc.value("VpcId", "") != lb.doc.value("VpcId", ""))
    throw ApiError("InvalidConfigurationRequest", "The target group '" + g.arn + "' is in VPC '" +
                                                      g.doc.value("VpcId", "") + "', not in the load balancer's VPC '" +
                                                      lb.doc.value("VpcId", "") + "'");
  for (const auto& other : store::TargetGroupRepo(db).load_balancer_arns(g.id))
    if (other != lb.arn)
      throw ApiError("TargetGroupAssociationLimit",
                     "The following target groups cannot be associated with more than one load balancer: " + g.arn);
}

json forward(store::Db& db, const RequestContext& ctx, const json& a, const store::LoadBalancerRow& lb,
             const std::string& protocol, std::vector<store::RuleTargetGroup>& forwards) {
  json groups = json::array();
  if (a.contains("ForwardConfig")) groups = a["ForwardConfig"].value("TargetGroups", json::array());
  if (a.contains("TargetGroupArn")) {
    if (groups.empty()) groups.push_back({{"TargetGroupArn", a["TargetGroupArn"]}});
    else if (groups.size() != 1 || groups[0].value("TargetGroupArn", "") != a["TargetGroupArn"].get<std::string>())
      throw ApiError("ValidationError",
                     "When both TargetGroupArn and ForwardConfig are given, ForwardConfig must name only that target group");
  }
  if (groups.empty()) throw ApiError("ValidationError", "A target group ARN must be specified for forward actions");
  std::size_t limit = lb.type == "application" ? kMaxTargetGroupsPerAction : 1;
  if (groups.size() > limit)
    throw ApiError("ValidationError", "A forward action of a load balancer of type '" + lb.type + "' can have at most " +
                                          std::to_string(limit) + " target group(s)");
  json tuples = json::array();
  std::set<std::string> seen;
  for (const auto& t : groups) {
    std::string arn_s = t.value("TargetGroupArn", "");
    if (!seen.insert(arn_s).second)
      throw ApiError("ValidationError", "Target group '" + arn_s + "' is specified more than once in the action");
    int weight = t.value("Weight", 1);
    if (weight < 0 || weight > 999)
      throw ApiError("ValidationError", "Target group weight '" + std::to_string(weight) + "' must be between 0 and 999");
    auto g = in_scope(ctx, arn_s) ? store::TargetGroupRepo(db).find_by_arn(arn_s) : std::nullopt;
    if (!g) throw ApiError("TargetGroupNotFound", "Target group '" + arn_s + "' not found");
    check_target_group(db, *g, lb, protocol);
    forwards.push_back({g->id, weight});
    tuples.push_back({{"TargetGroupArn", arn_s}, {"Weight", weight}});
  }
  json stickiness = {{"Enabled", false}};
  if (a.contains("ForwardConfig") && a["ForwardConfig"].contains("TargetGroupStickinessConfig")) {
    const json& s = a["ForwardConfig"]["TargetGroupStickinessConfig"];
    stickiness["Enabled"] = s.value("Enabled", false);
    if (s.contains("DurationSeconds")) {
      int d = s["DurationSeconds"];
      if (d < 1 || d > 604800)
        throw ApiError("ValidationError", "Target group stickiness duration '" + std::to_string(d) +
                                              "' must be between 1 and 604800 seconds");
      stickiness["DurationSeconds"] = d;
    } else if (stickiness["Enabled"].get<bool>()) {
      throw ApiError("ValidationError", "A stickiness duration must be specified when target group stickiness is enabled");
    }
  }
  json out = {{"Type", "forward"},
              {"ForwardConfig", {{"TargetGroups", tuples}, {"TargetGroupStickinessConfig", stickiness}}}};
  if (tuples.size() == 1) out["TargetGroupArn"] = tuples[0]["TargetGroupArn"];
  return out;
}

json redirect(const json& a) {
  if (!a.contains("RedirectConfig"))
    throw ApiError("ValidationError", "A redirect configuration must be specified for redirect actions");
  json c = a["RedirectConfig"];
  json out = {{"Protocol", c.value("Protocol", "#{protocol}")}, {"Port", c.value("Port", "#{port}")},
              {"Host", c.value("Host", "#{host}")},             {"Path", c.value("Path", "/#{path}")},
              {"Query", c.value("Query", "#{query}")},          {"StatusCode", c.value("StatusCode", "")}};
  std::string proto = out["Protocol"], port = out["Port"], path = out["Path"];
  if (proto != "HTTP" && proto != "HTTPS" && proto != "#{protocol}")
    throw ApiError("ValidationError", "Redirect protocol '" + proto + "' must be one of [HTTP, HTTPS, #{protocol}]");
  if (port != "#{port}") {
    bool digits = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stol(port) < 1 || std::stol(port) > 65535)
      throw ApiError("ValidationError", "Redirect port '" + port + "' must be '#{port}' or a port between 1 and 65535");
  }
  if (path.empty() || path.front() != '/')
    throw ApiError("ValidationError", "Redirect path '" + path + "' must begin with a '/' character");
  if (proto == "#{protocol}" && port == "#{port}" && out["Host"] == "#{host}" && path == "/#{path}" &&
      out["Query"] == "#{query}")
    throw ApiError("InvalidLoadBalancerAction",
                   "The redirect configuration is not valid: it redirects to the original URL");
  return {{"Type", "redirect"}, {"RedirectConfig", out}};
}

json fixed_response(const json& a) {
  if (!a.contains("FixedResponseConfig"))
    throw ApiError("ValidationError", "A fixed response configuration must be specified for fixed-response actions");
  const json& c = a["FixedResponseConfig"];
  json out = {{"StatusCode", c.value("StatusCode", "")}};
  if (c.contains("ContentType")) {
    std::string ct = c["ContentType"];
    if (!kContentTypes.count(ct))
      throw ApiError("InvalidLoadBalancerAction", "The ContentType must be one of: 'text/plain', 'text/css', "
                                                  "'text/html', 'application/javascript', 'application/json'");
    out["ContentType"] = ct;
  }
  if (c.contains("MessageBody")) {
    std::string body = c["MessageBody"];
    if (body.size() > 1024)
      throw ApiError("ValidationError", "The fixed response message body cannot be longer than 1024 characters");
    out["MessageBody"] = body;
  }
  return {{"Type", "fixed-response"}, {"FixedResponseConfig", out}};
}

}  // namespace

json check_actions(store::Db& db, const RequestContext& ctx, const json& actions, const store::LoadBalancerRow& lb,
                   const std::string& protocol, std::vector<store::RuleTargetGroup>& forwards) {
  forwards.clear();
  if (!actions.is_array() || actions.empty())
    throw ApiError("ValidationError", "At least one action must be specified");
  if (actions.size() > 1)
    throw ApiError("InvalidLoadBalancerAction",
                   "A listener or rule takes exactly one forward, redirect or fixed-response action");
  const json& a = actions[0];
  std::string type = a.value("Type", "");
  if (type.rfind("authenticate-", 0) == 0 || type == "jwt-validation")
    throw ApiError("InvalidLoadBalancerAction", "ecsd does not support '" + type + "' actions");
  if (lb.type == "network" && type != "forward")
    throw ApiError("InvalidLoadBalancerAction",
                   "Network load balancer listeners support only forward actions, not '" + type + "'");
  const std::pair<const char*, const char*> kConfigOf[] = {
      {"TargetGroupArn", "forward"}, {"ForwardConfig", "forward"}, {"RedirectConfig", "redirect"},
      {"FixedResponseConfig", "fixed-response"}};
  for (const auto& [member, owner] : kConfigOf)
    if (a.contains(member) && type != owner)
      throw ApiError("ValidationError",
                     std::string("'") + member + "' can only be specified with '" + owner + "' actions");
  json out;
  if (type == "forward") out = forward(db, ctx, a, lb, protocol, forwards);
  else if (type == "redirect") out = redirect(a);
  else out = fixed_response(a);
  if (a.contains("Order")) out["Order"] = a["Order"];
  return json::array({out});
}

}  // namespace ecsd::services::elbv2
