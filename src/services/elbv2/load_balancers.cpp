// ELBv2 load balancer handlers: CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer,
// DescribeLoadBalancerAttributes, ModifyLoadBalancerAttributes.
//
// DNS names: <name>-<10 digits>.<region>.elb.localhost ("internal-" in front for internal
// schemes), mirroring AWS's <name>-<digits>.<region>.elb.amazonaws.com. RFC 6761 reserves
// "localhost." and every name under it for loopback, so the name reaches this machine without any
// DNS server: curl (7.78+), Chrome and Firefox resolve *.localhost to 127.0.0.1/::1 themselves,
// and so does glibc when nss-myhostname (systemd) is in /etc/nsswitch.conf ("hosts: files
// myhostname dns") or systemd-resolved is the resolver. Plain glibc "files dns" does not: there,
// add the name to /etc/hosts or use `curl --resolve <name>:<port>:127.0.0.1`. The data plane
// matches a request's Host against DNSName (case-insensitively) to tell load balancers apart when
// they share a port.
#include <algorithm>
#include <cstdint>
#include <regex>
#include <set>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/domain/elb.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"

namespace ecsd::services::elbv2 {

namespace {

using Spec = AttributeSpec;

// Attributes and defaults as DescribeLoadBalancerAttributes lists them for a new load balancer.
const std::vector<Spec>& application_attributes() {
  static const std::vector<Spec> kSpecs = {
      {"access_logs.s3.enabled", Spec::kBool, "false"},
      {"access_logs.s3.bucket", Spec::kText, ""},
      {"access_logs.s3.prefix", Spec::kText, ""},
      {"client_keep_alive.seconds", Spec::kInt, "3600", 60, 604800},
      {"connection_logs.s3.enabled", Spec::kBool, "false"},
      {"connection_logs.s3.bucket", Spec::kText, ""},
      {"connection_logs.s3.prefix", Spec::kText, ""},
      {"deletion_protection.enabled", Spec::kBool, "false"},
      {"idle_timeout.timeout_seconds", Spec::kInt, "60", 1, 4000},
      {"load_balancing.cross_zone.enabled", Spec::kBool, "true"},
      {"routing.http.desync_mitigation_mode", Spec::kEnum, "defensive", 0, 0, {"monitor", "defensive", "strictest"}},
      {"routing.http.drop_invalid_header_fields.enabled", Spec::kBool, "false"},
      {"routing.http.preserve_host_header.enabled", Spec::kBool, "false"},
      {"routing.http.x_amzn_tls_version_and_cipher_suite.enabled", Spec::kBool, "false"},
      {"routing.http.xff_client_port.enabled", Spec::kBool, "false"},
      {"routing.http.xff_header_processing.mode", Spec::kEnum, "append", 0, 0, {"append", "preserve", "remove"}},
      {"routing.http2.enabled", Spec::kBool, "true"},
      {"waf.fail_open.enabled", Spec::kBool, "false"},
      {"zonal_shift.config.enabled", Spec::kBool, "false"},
  };
  return kSpecs;
}

const std::vector<Spec>& network_attributes() {
  static const std::vector<Spec> kSpecs = {
      {"access_logs.s3.enabled", Spec::kBool, "false"},
      {"access_logs.s3.bucket", Spec::kText, ""},
      {"access_logs.s3.prefix", Spec::kText, ""},
      {"deletion_protection.enabled", Spec::kBool, "false"},
      {"dns_record.client_routing_policy", Spec::kEnum, "any_availability_zone", 0, 0,
       {"availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone"}},
      {"load_balancing.cross_zone.enabled", Spec::kBool, "false"},
      {"zonal_shift.config.enabled", Spec::kBool, "false"},
  };
  return kSpecs;
}

const std::vector<Spec>& attributes_for(const std::string& type) {
  return type == "network" ? network_attributes() : application_attributes();
}

void check_name(const std::string& name) {
  static const std::regex kChars("^[a-zA-Z0-9-]+$");
  if (name.empty() || name.size() > 32)
    throw ApiError("ValidationError", "Load balancer name '" + name + "' cannot be longer than '32' characters");
  if (!std::regex_match(name, kChars))
    throw ApiError("ValidationError", "Load balancer name '" + name +
                                          "' can only contain characters that are alphanumeric characters or hyphens(-)");
  if (name.front() == '-' || name.back() == '-')
    throw ApiError("ValidationError", "Load balancer name '" + name + "' cannot begin or end with '-'");
  if (name.rfind("internal-", 0) == 0)
    throw ApiError("ValidationError", "Load balancer name '" + name + "' cannot begin with 'internal-'");
}

// A made-up but stable Route 53 zone id per region and type (ecsd has no Route 53).
std::string hosted_zone_id(const std::string& region, const std::string& type) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : region + "/" + type) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id = "Z";
  for (int i = 0; i < 13; ++i, h /= 36) id += kAlphabet[h % 36];
  return id;
}

std::string dns_name(const RequestContext& ctx, const std::string& name, const std::string& scheme) {
  return (scheme == "internal" ? "internal-" : "") + name + "-" + ids::digits(10) + "." + ctx.scope.region +
         ".elb.localhost";
}

std::vector<std::string> strings(const json& list) {
  std::vector<std::string> out;
  if (list.is_array())
    for (const auto& s : list) out.push_back(s.get<std::string>());
  return out;
}

// Subnets of the request (Subnets or SubnetMappings) resolved to their VPC and zone: the
// AvailabilityZones member, and the VPC id.
std::pair<json, std::string> placement(store::Db& db, const RequestContext& ctx, const json& in,
                                       const std::string& type) {
  if (in.contains("Subnets") && in.contains("SubnetMappings"))
    throw ApiError("ValidationError", "You can specify subnets or subnet mappings, not both");
  std::vector<std::string> ids = strings(in.value("Subnets", json::array()));
  json mappings = in.value("SubnetMappings", json::array());
  for (const auto& m : mappings) ids.push_back(m.value("SubnetId", ""));
  if (ids.empty())
    throw ApiError("ValidationError", type == "application"
                                          ? "At least two subnets in two different Availability Zones must be specified"
                                          : "At least one subnet must be specified");
  auto found = domain::subnets(db, ctx.scope, ids);
  for (const auto& id : ids)
    if (std::none_of(found.begin(), found.end(), [&](const auto& s) { return s.id == id; }))
      throw ApiError("SubnetNotFound", "The subnet ID '" + id + "' is not valid");
  json zones = json::array();
  std::set<std::string> az_names;
  std::string vpc_id = found.front().vpc_id;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& s = found[i];
    if (s.vpc_id != vpc_id)
      throw ApiError("InvalidConfigurationRequest", "The subnets '" + found.front().id + "' and '" + s.id +
                                                        "' belong to different VPCs");
    if (!az_names.insert(s.az).second)
      throw ApiError("InvalidConfigurationRequest",
                     "A load balancer cannot be attached to multiple subnets in the same Availability Zone");
    json addresses = json::array();
    if (i >= ids.size() - mappings.size()) {
      const json& m = mappings[i - (ids.size() - mappings.size())];
      json a = json::object();
      if (m.contains("AllocationId")) a["AllocationId"] = m["AllocationId"];
      if (m.contains("PrivateIPv4Address")) a["PrivateIPv4Address"] = m["PrivateIPv4Address"];
      if (m.contains("IPv6Address")) a["IPv6Address"] = m["IPv6Address"];
      if (!a.empty()) addresses.push_back(a);
    }
    zones.push_back({{"ZoneName", s.az}, {"SubnetId", s.id}, {"LoadBalancerAddresses", addresses}});
  }
  if (type == "application" && az_names.size() < 2)
    throw ApiError("ValidationError", "At least two subnets in two different Availability Zones must be specified");
  return {zones, vpc_id};
}

// The security groups of the request, checked against the VPC; an ALB without any gets the
// VPC's default group, as AWS does.
json security_groups(store::Db& db, const RequestContext& ctx, const json& in, const std::string& type,
                     const std::string& vpc_id) {
  std::vector<std::string> ids = strings(in.value("SecurityGroups", json::array()));
  if (ids.empty()) {
    if (type != "application") return json();
    std::string def = domain::default_security_group(db, ctx.scope, vpc_id);
    return def.empty() ? json::array() : json::array({def});
  }
  auto found = domain::security_groups(db, ctx.scope, ids);
  for (const auto& id : ids) {
    auto g = std::find_if(found.begin(), found.end(), [&](const auto& s) { return s.id == id; });
    if (g == found.end()) throw ApiError("InvalidSecurityGroup", "Security group '" + id + "' does not exist");
    if (g->vpc_id != vpc_id)
      throw ApiError("InvalidSecurityGroup", "Security group '" + id + "' does not belong to VPC '" + vpc_id + "'");
  }
  return json(ids);
}

// The settings that make two CreateLoadBalancer calls "the same" (the call is idempotent then).
json settings_of(const json& doc) {
  json subnets = json::array();
  for (const auto& z : doc.value("AvailabilityZones", json::array())) subnets.push_back(z.value("SubnetId", ""));
  std::sort(subnets.begin(), subnets.end());
  json groups = doc.value("SecurityGroups", json::array());
  std::sort(groups.begin(), groups.end());
  return {doc.value("Type", ""), doc.value("Scheme", ""), doc.value("IpAddressType", ""), subnets, groups};
}

json attributes_output(const store::LoadBalancerRow& lb) { return {{"Attributes", attributes_json(lb.attributes)}}; }

}  // namespace

json create_load_balancer(RequestContext& ctx, const json& in) {
  std::string name = in.at("Name");
  check_name(name);
  std::string type = in.value("Type", "application");
  if (type == "gateway")
    throw ApiError("InvalidConfigurationRequest", "ecsd does not support gateway load balancers");
  std::string scheme = in.value("Scheme", "internet-facing");
  std::string ip_type = in.value("IpAddressType", "ipv4");
  store::Tags tags = tags_from(in.value("Tags", json::array()));
  json result = ctx.store.write([&](store::Db& db) {
    store::LoadBalancerRepo repo(db);
    auto [zones, vpc_id] = placement(db, ctx, in, type);
    json groups = security_groups(db, ctx, in, type, vpc_id);
    json doc = {{"LoadBalancerName", name},
                {"Scheme", scheme},
                {"VpcId", vpc_id},
                {"State", {{"Code", "active"}}},
                {"Type", type},
                {"AvailabilityZones", zones},
                {"IpAddressType", ip_type}};
    if (!groups.is_null()) doc["SecurityGroups"] = groups;
    if (in.contains("CustomerOwnedIpv4Pool")) doc["CustomerOwnedIpv4Pool"] = in["CustomerOwnedIpv4Pool"];
    if (auto existing = repo.find(ctx.scope, name)) {
      if (settings_of(existing->doc) != settings_of(doc))
        throw ApiError("DuplicateLoadBalancerName",
                       "A load balancer with the same name '" + name + "' exists, but with different settings");
      return json{{"LoadBalancers", json::array({existing->doc})}};
    }
    if (repo.count(ctx.scope, type) >= kMaxLoadBalancers)
      throw ApiError("TooManyLoadBalancers", "The quota for the number of load balancers has been reached");
    store::LoadBalancerRow lb;
    lb.name = name;
    lb.type = type;
    lb.arn = elb_arn(ctx, std::string("loadbalancer/") + (type == "network" ? "net/" : "app/") + name + "/" +
                              ids::hex(16));
    lb.dns_name = dns_name(ctx, name, scheme);
    lb.status = "active";
    lb.created_at = ctx.now;
    doc["LoadBalancerArn"] = lb.arn;
    doc["DNSName"] = lb.dns_name;
    doc["CanonicalHostedZoneId"] = hosted_zone_id(ctx.scope.region, type);
    doc["CreatedTime"] = ctx.now;
    lb.doc = doc;
    lb.attributes = attribute_defaults(attributes_for(type));
    repo.insert(ctx.scope, lb);
    put_tags(db, lb.arn, tags);
    return json{{"LoadBalancers", json::array({lb.doc})}};
  });
  ctx.changed("load-balancer:" + result["LoadBalancers"][0]["LoadBalancerArn"].get<std::string>());
  return result;
}

json describe_load_balancers(RequestContext& ctx, const json& in) {
  if (in.contains("LoadBalancerArns") && in.contains("Names"))
    throw ApiError("ValidationError", "Load balancer names and load balancer ARNs cannot be specified at the same time");
  return ctx.store.read([&](store::Db& db) {
    store::LoadBalancerRepo repo(db);
    std::vector<store::LoadBalancerRow> rows;
    std::vector<std::string> missing;
    if (in.contains("LoadBalancerArns")) {
      for (const auto& a : strings(in["LoadBalancerArns"])) {
        auto lb = in_scope(ctx, a) ? repo.find_by_arn(a) : std::nullopt;
        if (lb) rows.push_back(*lb);
        else missing.push_back(a);
      }
    } else if (in.contains("Names")) {
      for (const auto& n : strings(in["Names"])) {
        auto lb = repo.find(ctx.scope, n);
        if (lb) rows.push_back(*lb);
        else missing.push_back(n);
      }
    } else {
      rows = repo.list(ctx.scope);
    }
    if (!missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      throw ApiError("LoadBalancerNotFound", "Load balancers '[" + list + "]' not found");
    }
    json items = json::array();
    std::set<std::int64_t> seen;
    for (const auto& r : rows)
      if (seen.insert(r.id).second) items.push_back(r.doc);
    return page(in, items, "LoadBalancers");
  });
}

json delete_load_balancer(RequestContext& ctx, const json& in) {
  std::string arn_s = in.at("LoadBalancerArn");
  bool deleted = ctx.store.write([&](store::Db& db) {
    store::LoadBalancerRepo repo(db);
    // Deleting a load balancer that does not exist (any more) succeeds, as in AWS.
    auto lb = in_scope(ctx, arn_s) ? repo.find_by_arn(arn_s) : std::nullopt;
    if (!lb) return false;
    if (lb->attributes.value("deletion_protection.enabled", "false") == "true")
      throw ApiError("OperationNotPermitted",
                     "Load balancer '" + arn_s + "' cannot be deleted because deletion protection is enabled");
    for (const auto& l : store::ListenerRepo(db).list(lb->id)) remove_listener(db, l, ctx.now);
    store::TagRepo(db).remove_all(lb->arn);
    repo.remove(lb->id);
    return true;
  });
  if (deleted) ctx.changed("load-balancer:" + arn_s);
  return json::object();
}

json describe_load_balancer_attributes(RequestContext& ctx, const json& in) {
  return ctx.store.read(
      [&](store::Db& db) { return attributes_output(require_load_balancer(db, ctx, in.at("LoadBalancerArn"))); });
}

json modify_load_balancer_attributes(RequestContext& ctx, const json& in) {
  json out = ctx.store.write([&](store::Db& db) {
    auto lb = require_load_balancer(db, ctx, in.at("LoadBalancerArn"));
    apply_attributes(lb.attributes, in.value("Attributes", json::array()), attributes_for(lb.type), "Load balancer");
    store::LoadBalancerRepo(db).update(lb);
    return attributes_output(lb);
  });
  ctx.changed("load-balancer:" + in.at("LoadBalancerArn").get<std::string>());
  return out;
}

}  // namespace ecsd::services::elbv2
