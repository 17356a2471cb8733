// ELBv2 target group handlers: CreateTargetGroup, DescribeTargetGroups, ModifyTargetGroup,
// DeleteTargetGroup, DescribeTargetGroupAttributes, ModifyTargetGroupAttributes.
//
// Health check defaults, as AWS documents them per protocol:
//   HTTP/HTTPS group     protocol = the group's, port traffic-port, path /, interval 30, timeout 5,
//                        healthy 5, unhealthy 2, matcher 200 (GRPC: gRPC code 12)
//   TCP/TLS group        protocol TCP (timeout 10; HTTP checks: timeout 6, path /, matcher 200-399;
//                        HTTPS checks: timeout 10), port traffic-port, interval 30, healthy 5, unhealthy 2
//   lambda               disabled; interval 35, timeout 30, healthy 5, unhealthy 2, path /, matcher 200
#include <algorithm>
#include <regex>
#include <set>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/domain/elb.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"
#include "ecsd/store/ec2_repo.hpp"

namespace ecsd::services::elbv2 {

namespace {

using Spec = AttributeSpec;

bool is_http(const std::string& protocol) { return protocol == "HTTP" || protocol == "HTTPS"; }

void check_name(const std::string& name) {
  static const std::regex kChars("^[a-zA-Z0-9-]+$");
  if (name.empty() || name.size() > 32)
    throw ApiError("ValidationError", "Target group name '" + name + "' cannot be longer than '32' characters");
  if (!std::regex_match(name, kChars))
    throw ApiError("ValidationError", "Target group name '" + name +
                                          "' can only contain characters that are alphanumeric characters or hyphens(-)");
  if (name.front() == '-' || name.back() == '-')
    throw ApiError("ValidationError", "Target group name '" + name + "' cannot begin or end with '-'");
}

// Attributes and defaults per protocol and target type, as DescribeTargetGroupAttributes lists them.
std::vector<Spec> attribute_specs(const std::string& protocol, const std::string& target_type) {
  if (target_type == "lambda") return {{"lambda.multi_value_headers.enabled", Spec::kBool, "false"}};
  std::vector<Spec> specs = {
      {"deregistration_delay.timeout_seconds", Spec::kInt, "300", 0, 3600},
      {"load_balancing.cross_zone.enabled", Spec::kEnum, "use_load_balancer_configuration", 0, 0,
       {"true", "false", "use_load_balancer_configuration"}},
      {"stickiness.enabled", Spec::kBool, "false"},
      {"target_group_health.dns_failover.minimum_healthy_targets.count", Spec::kCountOrOff, "1", 1, 1000},
      {"target_group_health.dns_failover.minimum_healthy_targets.percentage", Spec::kPercentOrOff, "off", 1, 100},
      {"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", Spec::kCountOrOff, "1", 1, 1000},
      {"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", Spec::kPercentOrOff, "off",
       1, 100},
  };
  if (is_http(protocol)) {
    specs.insert(specs.end(), {
        {"load_balancing.algorithm.type", Spec::kEnum, "round_robin", 0, 0,
         {"round_robin", "least_outstanding_requests", "weighted_random"}},
        {"load_balancing.algorithm.anomaly_mitigation", Spec::kEnum, "off", 0, 0, {"on", "off"}},
        {"slow_start.duration_seconds", Spec::kInt, "0", 0, 900},
        {"stickiness.type", Spec::kEnum, "lb_cookie", 0, 0, {"lb_cookie", "app_cookie"}},
        {"stickiness.lb_cookie.duration_seconds", Spec::kInt, "86400", 1, 604800},
        {"stickiness.app_cookie.cookie_name", Spec::kText, ""},
        {"stickiness.app_cookie.duration_seconds", Spec::kInt, "86400", 1, 604800},
    });
  } else {
    specs.insert(specs.end(), {
        {"deregistration_delay.connection_termination.enabled", Spec::kBool, "false"},
        {"preserve_client_ip.enabled", Spec::kBool, target_type == "instance" ? "true" : "false"},
        {"proxy_protocol_v2.enabled", Spec::kBool, "false"},
        {"stickiness.type", Spec::kEnum, "source_ip", 0, 0, {"source_ip"}},
        {"target_health_state.unhealthy.connection_termination.enabled", Spec::kBool, "true"},
        {"target_health_state.unhealthy.draining_interval_seconds", Spec::kInt, "0", 0, 360000},
    });
  }
  return specs;
}

// Rules between attributes that a per-attribute check cannot see.
void check_attribute_combination(const json& a) {
  auto get = [&](const char* k) { return a.value(k, ""); };
  std::string slow = get("slow_start.duration_seconds"), algorithm = get("load_balancing.algorithm.type");
  if (!slow.empty() && slow != "0") {
    if (std::stoi(slow) < 30)
      throw ApiError("ValidationError", "Target group attribute 'slow_start.duration_seconds' value '" + slow +
                                            "' must be 0 or between 30 and 900");
    if (algorithm != "round_robin")
      throw ApiError("InvalidConfigurationRequest",
                     "Slow start mode is supported only with the 'round_robin' load balancing algorithm");
  }
  if (get("load_balancing.algorithm.anomaly_mitigation") == "on" && algorithm != "weighted_random")
    throw ApiError("InvalidConfigurationRequest",
                   "Anomaly mitigation is supported only with the 'weighted_random' load balancing algorithm");
  if (get("stickiness.enabled") == "true" && get("stickiness.type") == "app_cookie" &&
      get("stickiness.app_cookie.cookie_name").empty())
    throw ApiError("InvalidConfigurationRequest",
                   "You must set an application cookie name to enable stickiness of type 'app_cookie'");
}

// Fills the health check members the request left out with the protocol's defaults.
void default_health_check(json& doc) {
  std::string protocol = doc.value("Protocol", "");
  if (doc.value("TargetType", "") == "lambda") {
    const std::pair<const char*, json> kLambda[] = {
        {"HealthCheckEnabled", false},  {"HealthCheckIntervalSeconds", 35}, {"HealthCheckTimeoutSeconds", 30},
        {"HealthyThresholdCount", 5}, {"UnhealthyThresholdCount", 2},     {"HealthCheckPath", "/"}};
    for (const auto& [k, v] : kLambda)
      if (!doc.contains(k)) doc[k] = v;
    if (!doc.contains("Matcher")) doc["Matcher"] = {{"HttpCode", "200"}};
    return;
  }
  if (!doc.contains("HealthCheckProtocol")) doc["HealthCheckProtocol"] = is_http(protocol) ? protocol : "TCP";
  std::string hc = doc["HealthCheckProtocol"];
  int timeout = is_http(protocol) ? 5 : hc == "HTTP" ? 6 : 10;
  const std::pair<const char*, json> kDefaults[] = {
      {"HealthCheckPort", "traffic-port"},   {"HealthCheckEnabled", true},   {"HealthCheckIntervalSeconds", 30},
      {"HealthCheckTimeoutSeconds", timeout}, {"HealthyThresholdCount", 5}, {"UnhealthyThresholdCount", 2}};
  for (const auto& [k, v] : kDefaults)
    if (!doc.contains(k)) doc[k] = v;
  if (is_http(hc)) {
    if (!doc.contains("HealthCheckPath")) doc["HealthCheckPath"] = "/";
    if (!doc.contains("Matcher")) {
      if (doc.value("ProtocolVersion", "") == "GRPC") doc["Matcher"] = {{"GrpcCode", "12"}};
      else doc["Matcher"] = {{"HttpCode", is_http(protocol) ? "200" : "200-399"}};
    }
  }
}

// Checks a target group's health check settings (the whole TargetGroup shape, after defaults).
void check_health_check(const json& doc, const json& requested) {
  std::string protocol = doc.value("Protocol", ""), type = doc.value("TargetType", "instance");
  std::string hc = doc.value("HealthCheckProtocol", "");
  if (type != "lambda" && !doc.value("HealthCheckEnabled", true))
    throw ApiError("ValidationError",
                   "Health checks cannot be disabled for target groups with target type '" + type + "'");
  if (is_http(protocol) && !is_http(hc))
    throw ApiError("ValidationError", "Health check protocol '" + hc +
                                          "' is not supported for target groups with the '" + protocol + "' protocol");
  if (type != "lambda" && !is_http(hc)) {
    if (requested.contains("HealthCheckPath"))
      throw ApiError("InvalidConfigurationRequest",
                     "Custom health check paths are not supported for health checks with the " + hc + " protocol");
    if (requested.contains("Matcher"))
      throw ApiError("InvalidConfigurationRequest",
                     "Custom health check matchers are not supported for health checks with the " + hc + " protocol");
  }
  std::string path = doc.value("HealthCheckPath", "/");
  if (path.empty() || path.front() != '/')
    throw ApiError("ValidationError", "Health check path '" + path + "' must begin with a '/' character");
  std::string port = doc.value("HealthCheckPort", "traffic-port");
  if (port != "traffic-port") {
    long p = 0;
    bool digits = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    if (digits) p = std::stol(port);
    if (!digits || p < 1 || p > 65535)
      throw ApiError("ValidationError",
                     "Health check port '" + port + "' must be 'traffic-port' or a port between 1 and 65535");
  }
  int interval = doc.value("HealthCheckIntervalSeconds", 30), timeout = doc.value("HealthCheckTimeoutSeconds", 5);
  if (is_http(hc) || type == "lambda") {
    if (timeout >= interval)
      throw ApiError("ValidationError", "Health check timeout '" + std::to_string(timeout) +
                                            "' must be smaller than the interval '" + std::to_string(interval) + "'");
  } else if (timeout > interval) {
    throw ApiError("ValidationError", "Health check timeout '" + std::to_string(timeout) +
                                          "' must be smaller than or equal to the interval '" +
                                          std::to_string(interval) + "'");
  }
  if (doc.contains("Matcher")) {
    static const std::regex kHttpCodes(R"(^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$)");
    static const std::regex kGrpcCodes(R"(^\d{1,2}(-\d{1,2})?(,\d{1,2}(-\d{1,2})?)*$)");
    const json& m = doc["Matcher"];
    if (m.contains("HttpCode") && !std::regex_match(m["HttpCode"].get<std::string>(), kHttpCodes))
      throw ApiError("ValidationError", "Health check matcher HTTP code '" + m["HttpCode"].get<std::string>() +
                                            "' must be like 200, 200-399 or 200,201");
    if (m.contains("GrpcCode") && !std::regex_match(m["GrpcCode"].get<std::string>(), kGrpcCodes))
      throw ApiError("ValidationError", "Health check matcher gRPC code '" + m["GrpcCode"].get<std::string>() +
                                            "' must be like 12, 0-99 or 0,12");
    if (m.contains("GrpcCode") && doc.value("ProtocolVersion", "") != "GRPC")
      throw ApiError("ValidationError", "A gRPC code matcher can only be used with protocol version 'GRPC'");
  }
}

// The health check members a request may set (CreateTargetGroup and ModifyTargetGroup share them).
constexpr const char* kHealthCheckMembers[] = {"HealthCheckProtocol",        "HealthCheckPort",
                                               "HealthCheckEnabled",         "HealthCheckPath",
                                               "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds",
                                               "HealthyThresholdCount",      "UnhealthyThresholdCount",
                                               "Matcher"};

json view(store::Db& db, const store::TargetGroupRow& g) {
  json out = g.doc;
  out["LoadBalancerArns"] = store::TargetGroupRepo(db).load_balancer_arns(g.id);
  return out;
}

json attributes_output(const store::TargetGroupRow& g) { return {{"Attributes", attributes_json(g.attributes)}}; }

// The TargetGroup shape for a CreateTargetGroup request (no ARN yet), checked.
json new_doc(store::Db& db, const RequestContext& ctx, const json& in) {
  std::string type = in.value("TargetType", "instance");
  std::string protocol = in.value("Protocol", "");
  json doc = {{"TargetGroupName", in.at("Name")}, {"TargetType", type}};
  // (member, how ELB names it in messages)
  const std::pair<const char*, const char*> kPlacement[] = {{"Protocol", "protocol"}, {"Port", "port"}, {"VpcId", "VPC ID"}};
  if (type == "lambda") {
    for (const auto& [member, what] : kPlacement)
      if (in.contains(member))
        throw ApiError("ValidationError", std::string(member == std::string("VpcId") ? "VPC ID" : member) +
                                              " cannot be specified for target groups with target type 'lambda'");
  } else {
    for (const auto& [member, what] : kPlacement)
      if (!in.contains(member)) throw ApiError("ValidationError", std::string("A ") + what + " must be specified");
    if (protocol != "HTTP" && protocol != "HTTPS" && protocol != "TCP" && protocol != "TLS")
      throw ApiError("InvalidConfigurationRequest",
                     "ecsd supports target groups with the HTTP, HTTPS, TCP and TLS protocols, not '" + protocol + "'");
    if (type == "alb" && protocol != "TCP")
      throw ApiError("ValidationError", "Target groups with target type 'alb' support only the TCP protocol");
    std::string vpc_id = in["VpcId"];
    domain::ensure_default_vpc(db, ctx.scope);
    if (!store::VpcRepo(db).find(ctx.scope, vpc_id))
      throw ApiError("ValidationError", "The VPC ID '" + vpc_id + "' is not found");
    doc["Protocol"] = protocol;
    doc["Port"] = in["Port"];
    doc["VpcId"] = vpc_id;
    if (in.contains("ProtocolVersion")) {
      std::string v = in["ProtocolVersion"];
      if (!is_http(protocol))
        throw ApiError("ValidationError", "A protocol version can only be specified for HTTP and HTTPS target groups");
      if (v != "HTTP1" && v != "HTTP2" && v != "GRPC")
        throw ApiError("ValidationError", "Protocol version '" + v + "' must be one of [HTTP1, HTTP2, GRPC]");
      doc["ProtocolVersion"] = v;
    } else if (is_http(protocol)) {
      doc["ProtocolVersion"] = "HTTP1";
    }
    std::string ip_type = in.value("IpAddressType", "ipv4");
    if (ip_type == "ipv6" && type != "ip")
      throw ApiError("ValidationError", "The IP address type 'ipv6' is supported only for target type 'ip'");
    doc["IpAddressType"] = ip_type;
  }
  for (const char* k : kHealthCheckMembers)
    if (in.contains(k)) doc[k] = in[k];
  default_health_check(doc);
  check_health_check(doc, in);
  return doc;
}

}  // namespace

json create_target_group(RequestContext& ctx, const json& in) {
  std::string name = in.at("Name");
  check_name(name);
  store::Tags tags = tags_from(in.value("Tags", json::array()));
  return ctx.store.write([&](store::Db& db) {
    store::TargetGroupRepo repo(db);
    json doc = new_doc(db, ctx, in);
    if (auto existing = repo.find(ctx.scope, name)) {
      json same = existing->doc;
      same.erase("TargetGroupArn");
      if (same != doc)
        throw ApiError("DuplicateTargetGroupName",
                       "A target group with the same name '" + name + "' exists, but with different settings");
      return json{{"TargetGroups", json::array({view(db, *existing)})}};
    }
    if (repo.count(ctx.scope) >= kMaxTargetGroups)
      throw ApiError("TooManyTargetGroups", "The quota for the number of target groups has been reached");
    store::TargetGroupRow g;
    g.name = name;
    g.arn = elb_arn(ctx, "targetgroup/" + name + "/" + ids::hex(16));
    g.protocol = doc.value("Protocol", "");
    g.target_type = doc.value("TargetType", "instance");
    g.created_at = ctx.now;
    doc["TargetGroupArn"] = g.arn;
    g.doc = std::move(doc);
    g.attributes = attribute_defaults(attribute_specs(g.protocol, g.target_type));
    repo.insert(ctx.scope, g);
    put_tags(db, g.arn, tags);
    return json{{"TargetGroups", json::array({view(db, g)})}};
  });
}

json describe_target_groups(RequestContext& ctx, const json& in) {
  int filters = in.contains("LoadBalancerArn") + in.contains("TargetGroupArns") + in.contains("Names");
  if (filters > 1)
    throw ApiError("ValidationError",
                   "Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time");
  return ctx.store.read([&](store::Db& db) {
    store::TargetGroupRepo repo(db);
    std::vector<store::TargetGroupRow> rows;
    std::vector<std::string> missing;
    if (in.contains("LoadBalancerArn")) {
      rows = repo.list_for_load_balancer(require_load_balancer(db, ctx, in["LoadBalancerArn"]).id);
    } else if (in.contains("TargetGroupArns")) {
      for (const auto& a : in["TargetGroupArns"].get<std::vector<std::string>>()) {
        auto g = in_scope(ctx, a) ? repo.find_by_arn(a) : std::nullopt;
        if (g) rows.push_back(*g);
        else missing.push_back(a);
      }
    } else if (in.contains("Names")) {
      for (const auto& n : in["Names"].get<std::vector<std::string>>()) {
        auto g = repo.find(ctx.scope, n);
        if (g) rows.push_back(*g);
        else missing.push_back(n);
      }
    } else {
      rows = repo.list(ctx.scope);
    }
    if (!missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      throw ApiError("TargetGroupNotFound", "Target groups '[" + list + "]' not found");
    }
    json items = json::array();
    std::set<std::int64_t> seen;
    for (const auto& g : rows)
      if (seen.insert(g.id).second) items.push_back(view(db, g));
    return page(in, items, "TargetGroups");
  });
}

json modify_target_group(RequestContext& ctx, const json& in) {
  json out = ctx.store.write([&](store::Db& db) {
    auto g = require_target_group(db, ctx, in.at("TargetGroupArn"));
    json doc = g.doc;
    bool was_enabled = domain::elb::health_check_enabled(g);
    if (in.contains("HealthCheckProtocol") &&
        is_http(in["HealthCheckProtocol"].get<std::string>()) != is_http(doc.value("HealthCheckProtocol", ""))) {
      // Switching between TCP and HTTP(S) checks brings in or drops the path and matcher.
      doc.erase("HealthCheckPath");
      doc.erase("Matcher");
      doc.erase("HealthCheckTimeoutSeconds");
    }
    for (const char* k : kHealthCheckMembers)
      if (in.contains(k)) doc[k] = in[k];
    default_health_check(doc);
    check_health_check(doc, in);
    g.doc = doc;
    store::TargetGroupRepo(db).update(g);
    if (was_enabled != domain::elb::health_check_enabled(g)) domain::elb::refresh_targets(db, g, ctx.now);
    return json{{"TargetGroups", json::array({view(db, g)})}};
  });
  ctx.changed("target-group:" + in.at("TargetGroupArn").get<std::string>());
  return out;
}

json delete_target_group(RequestContext& ctx, const json& in) {
  std::string arn_s = in.at("TargetGroupArn");
  bool deleted = ctx.store.write([&](store::Db& db) {
    store::TargetGroupRepo repo(db);
    // The model lists no TargetGroupNotFound here: deleting a missing group succeeds.
    auto g = in_scope(ctx, arn_s) ? repo.find_by_arn(arn_s) : std::nullopt;
    if (!g) return false;
    if (domain::elb::in_use(db, g->id))
      throw ApiError("ResourceInUse", "Target group '" + arn_s + "' is currently in use by a listener or a rule");
    store::TagRepo(db).remove_all(g->arn);
    repo.remove(g->id);
    return true;
  });
  if (deleted) ctx.changed("target-group:" + arn_s);
  return json::object();
}

json describe_target_group_attributes(RequestContext& ctx, const json& in) {
  return ctx.store.read(
      [&](store::Db& db) { return attributes_output(require_target_group(db, ctx, in.at("TargetGroupArn"))); });
}

json modify_target_group_attributes(RequestContext& ctx, const json& in) {
  json out = ctx.store.write([&](store::Db& db) {
    auto g = require_target_group(db, ctx, in.at("TargetGroupArn"));
    apply_attributes(g.attributes, in.value("Attributes", json::array()), attribute_specs(g.protocol, g.target_type),
                     "Target group");
    check_attribute_combination(g.attributes);
    store::TargetGroupRepo(db).update(g);
    return attributes_output(g);
  });
  ctx.changed("target-group:" + in.at("TargetGroupArn").get<std::string>());
  return out;
}

}  // namespace ecsd::services::elbv2
