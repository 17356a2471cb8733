// ELBv2 target handlers: RegisterTargets, DeregisterTargets, DescribeTargetHealth. The state
// machine (initial/unused on registration, draining for deregistration_delay, then gone) lives in
// domain/elb.cpp, shared with the ECS scheduler; health results come from the data plane.
#include <arpa/inet.h>

#include <regex>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/domain/elb.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"

namespace ecsd::services::elbv2 {

namespace {

namespace elb = domain::elb;

// Addresses an ip target may have: the private ranges AWS accepts outside the VPC's own blocks
// (10/8, 172.16/12, 192.168/16, 100.64/10), and on ecsd loopback too, so local servers can be targets.
bool private_ipv4(std::uint32_t ip) {
  auto in = [&](std::uint32_t base, int prefix) { return (ip >> (32 - prefix)) == (base >> (32 - prefix)); };
  return in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10) || in(0x7F000000, 8);
}

// The target ids a group of `type` takes. @throws InvalidTarget.
void check_target_id(store::Db& db, const RequestContext& ctx, const store::TargetGroupRow& g, const std::string& id) {
  const std::string& type = g.target_type;
  if (type == "instance") {
    static const std::regex kInstance("^i-[0-9a-zA-Z]{1,32}$");
    if (!std::regex_match(id, kInstance))
      throw ApiError("InvalidTarget", "The following targets are not valid instance IDs: '" + id + "'");
  } else if (type == "ip") {
    unsigned char buf[16];
    if (inet_pton(AF_INET, id.c_str(), buf) == 1) {
      std::uint32_t ip = (std::uint32_t{buf[0]} << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3];
      if (!private_ipv4(ip))
        throw ApiError("InvalidTarget", "The IP address '" + id +
                                            "' is not within the VPC CIDR or the private ranges 10.0.0.0/8, "
                                            "172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 and (on ecsd) 127.0.0.0/8");
      if (g.doc.value("IpAddressType", "ipv4") == "ipv6")
        throw ApiError("InvalidTarget", "The target group takes IPv6 targets; '" + id + "' is an IPv4 address");
    } else if (inet_pton(AF_INET6, id.c_str(), buf) == 1) {
      if (g.doc.value("IpAddressType", "ipv4") != "ipv6")
        throw ApiError("InvalidTarget", "The target group takes IPv4 targets; '" + id + "' is an IPv6 address");
    } else {
      throw ApiError("InvalidTarget", "The following targets are not valid IP addresses: '" + id + "'");
    }
  } else if (type == "lambda") {
    auto a = arn::parse(id);
    if (!a || a->service != "lambda" || a->resource.rfind("function:", 0) != 0)
      throw ApiError("InvalidTarget", "The following targets are not valid Lambda function ARNs: '" + id + "'");
  } else if (type == "alb") {
    auto lb = in_scope(ctx, id) ? store::LoadBalancerRepo(db).find_by_arn(id) : std::nullopt;
    if (!lb || lb->type != "application")
      throw ApiError("InvalidTarget", "The following targets are not application load balancers: '" + id + "'");
  }
}

// Targets of a request as the domain takes them; ports default to the group's.
std::vector<elb::TargetRef> refs_of(store::Db& db, const RequestContext& ctx, const store::TargetGroupRow& g,
                                    const json& targets) {
  std::vector<elb::TargetRef> out;
  for (const auto& t : targets) {
    elb::TargetRef r{t.value("Id", ""), t.value("Port", 0), t.value("AvailabilityZone", "")};
    check_target_id(db, ctx, g, r.id);
    if (g.target_type == "lambda" && t.contains("Port"))
      throw ApiError("ValidationError", "A port cannot be specified for targets of a lambda target group");
    out.push_back(std::move(r));
  }
  return out;
}

json describe(const store::TargetGroupRow& g, const store::TargetRow& t, const elb::Health& h, bool anomaly) {
  json target = {{"Id", t.target_id}};
  bool lambda = g.target_type == "lambda";
  if (!lambda) target["Port"] = t.port;
  if (!t.availability_zone.empty()) target["AvailabilityZone"] = t.availability_zone;
  json health = {{"State", h.state}};
  if (!h.reason.empty()) health["Reason"] = h.reason;
  if (!h.description.empty()) health["Description"] = h.description;
  json out = {{"Target", target}, {"TargetHealth", health}};
  if (!lambda) out["HealthCheckPort"] = std::to_string(elb::health_check_port(g, t));
  if (anomaly) out["AnomalyDetection"] = {{"Result", "normal"}, {"MitigationInEffect", "no"}};
  return out;
}

}  // namespace

json register_targets(RequestContext& ctx, const json& in) {
  std::string arn_s = in.at("TargetGroupArn");
  ctx.store.write([&](store::Db& db) {
    auto g = require_target_group(db, ctx, arn_s);
    auto refs = refs_of(db, ctx, g, in.at("Targets"));
    elb::register_targets(db, g, refs, ctx.now);
    int count = store::TargetRepo(db).count(g.id);
    if (g.target_type == "lambda" && count > 1)
      throw ApiError("TooManyTargets", "A target group with target type 'lambda' can have only one target");
    if (count > kMaxTargetsPerTargetGroup)
      throw ApiError("TooManyTargets", "The quota for the number of targets per target group has been reached");
  });
  ctx.changed("target-group:" + arn_s);
  return json::object();
}

json deregister_targets(RequestContext& ctx, const json& in) {
  std::string arn_s = in.at("TargetGroupArn");
  ctx.store.write([&](store::Db& db) {
    auto g = require_target_group(db, ctx, arn_s);
    // Targets that are not registered (e.g. another port) are ignored, as in AWS.
    elb::deregister_targets(db, g, refs_of(db, ctx, g, in.at("Targets")), ctx.now);
  });
  ctx.changed("target-group:" + arn_s);
  return json::object();
}

json describe_target_health(RequestContext& ctx, const json& in) {
  // A write: targets whose deregistration delay is over leave now, whoever asks first.
  return ctx.store.write([&](store::Db& db) {
    elb::purge_drained(db, ctx.now);
    auto g = require_target_group(db, ctx, in.at("TargetGroupArn"));
    bool anomaly = false;
    for (const auto& i : in.value("Include", json::array()))
      if (i == "AnomalyDetection" || i == "All") anomaly = true;
    anomaly = anomaly && g.attributes.value("load_balancing.algorithm.type", "") == "weighted_random";
    auto registered = store::TargetRepo(db).list(g.id);
    json out = json::array();
    auto health_of = [](const store::TargetRow& t) { return elb::Health{t.state, t.reason, t.description}; };
    if (!in.contains("Targets")) {
      for (const auto& t : registered) out.push_back(describe(g, t, health_of(t), anomaly));
      return json{{"TargetHealthDescriptions", out}};
    }
    for (const auto& ref : refs_of(db, ctx, g, in["Targets"])) {
      bool found = false;
      for (const auto& t : registered)
        if (t.target_id == ref.id && (ref.port == 0 || t.port == ref.port)) {
          out.push_back(describe(g, t, health_of(t), anomaly));
          found = true;
        }
      if (found) continue;
      store::TargetRow t;
      t.target_id = ref.id;
      t.port = ref.port ? ref.port : elb::group_port(g);
      t.availability_zone = ref.availability_zone;
      out.push_back(describe(g, t, elb::not_registered_health(), anomaly));
    }
    return json{{"TargetHealthDescriptions", out}};
  });
}

}  // namespace ecsd::services::elbv2
