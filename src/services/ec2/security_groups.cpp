// EC2 security group handlers: CreateSecurityGroup, DeleteSecurityGroup, DescribeSecurityGroups,
// Authorize/RevokeSecurityGroupIngress/Egress, DescribeSecurityGroupRules.
//
// Rules are stored one row per peer (as DescribeSecurityGroupRules shows them) and grouped back
// into IpPermissions by (protocol, from port, to port) for DescribeSecurityGroups. ecsd stores
// rules faithfully but does not enforce them on container traffic.
#include <algorithm>
#include <cctype>
#include <map>

#include "ecsd/common/api_error.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/services/ec2/ec2.hpp"
#include "ecsd/services/ec2/filters.hpp"

namespace ecsd::services::ec2 {

namespace {

// clang-format off
const FilterNames kGroupFilters = {
    "description", "egress.ip-permission.cidr", "egress.ip-permission.from-port", "egress.ip-permission.group-id",
    "egress.ip-permission.group-name", "egress.ip-permission.ipv6-cidr", "egress.ip-permission.prefix-list-id",
    "egress.ip-permission.protocol", "egress.ip-permission.to-port", "egress.ip-permission.user-id", "group-id",
    "group-name", "ip-permission.cidr", "ip-permission.from-port", "ip-permission.group-id",
    "ip-permission.group-name", "ip-permission.ipv6-cidr", "ip-permission.prefix-list-id", "ip-permission.protocol",
    "ip-permission.to-port", "ip-permission.user-id", "owner-id", "tag-key", "tag-value", "vpc-id"};
// clang-format on

const FilterNames kRuleFilters = {"group-id", "security-group-rule-id", "tag-key", "tag-value"};

// --- looking groups up ---

store::SecurityGroupRow require_group_id(store::SecurityGroupRepo& repo, const RequestContext& ctx,
                                         const std::string& id) {
  auto g = repo.find(ctx.scope, id);
  if (!g) throw ApiError("InvalidGroup.NotFound", "The security group '" + id + "' does not exist");
  return *g;
}

// A group by name in `vpc_id`, or in the default VPC when `vpc_id` is empty (as EC2 resolves GroupName).
store::SecurityGroupRow require_group_name(store::Db& db, const RequestContext& ctx, const std::string& name,
                                           std::string vpc_id = "") {
  if (vpc_id.empty()) {
    auto vpc = store::VpcRepo(db).find_default(ctx.scope);
    vpc_id = vpc ? vpc->id : "none";
  }
  auto g = store::SecurityGroupRepo(db).find_by_name(ctx.scope, vpc_id, name);
  if (!g)
    throw ApiError("InvalidGroup.NotFound",
                   "The security group '" + name + "' does not exist in default VPC '" + vpc_id + "'");
  return *g;
}

// The group a request names with GroupId or GroupName.
store::SecurityGroupRow target_group(store::Db& db, const RequestContext& ctx, const json& in) {
  store::SecurityGroupRepo repo(db);
  if (in.contains("GroupId")) return require_group_id(repo, ctx, in["GroupId"]);
  if (in.contains("GroupName")) return require_group_name(db, ctx, in["GroupName"]);
  throw ApiError("MissingParameter", "The request must contain the parameter groupName or groupId");
}

// --- rules ---

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// EC2 names tcp, udp, icmp and icmpv6 by name whichever way they were given; "all" is -1.
std::string normalize_protocol(const std::string& raw) {
  std::string p = lower(raw);
  if (p == "all" || p == "-1") return "-1";
  if (p == "tcp" || p == "6") return "tcp";
  if (p == "udp" || p == "17") return "udp";
  if (p == "icmp" || p == "1") return "icmp";
  if (p == "icmpv6" || p == "58") return "icmpv6";
  if (!p.empty() && p.size() <= 3 && std::all_of(p.begin(), p.end(), [](char c) { return std::isdigit(c); }) &&
      std::stoi(p) <= 255)
    return std::to_string(std::stoi(p));
  throw ApiError("InvalidParameterValue", "Invalid value '" + raw + "' for IP protocol. Unknown protocol.");
}

// Sets the port range of `spec` from an IpPermission, with the defaults EC2 applies.
void set_ports(domain::RuleSpec& spec, const json& perm) {
  bool has_from = perm.contains("FromPort"), has_to = perm.contains("ToPort");
  int from = has_from ? perm["FromPort"].get<int>() : -1;
  int to = has_to ? perm["ToPort"].get<int>() : -1;
  if (spec.protocol == "tcp" || spec.protocol == "udp") {
    if ((!has_from && !has_to) || (from == -1 && to == -1)) {
      from = 0;
      to = 65535;
    }
    if (from < 0 || to > 65535 || from > to)
      throw ApiError("InvalidParameterValue", "Invalid value 'Invalid port range " + std::to_string(from) + "-" +
                                                  std::to_string(to) + "' for portRange.");
  } else if (spec.protocol == "icmp" || spec.protocol == "icmpv6") {
    if (from < -1 || from > 255 || to < -1 || to > 255)
      throw ApiError("InvalidParameterValue", "Invalid value '" + std::to_string(from) + "' for ICMP type or '" +
                                                  std::to_string(to) + "' for ICMP code.");
  } else {
    from = to = -1;  // ports do not apply to other protocols
  }
  spec.from_port = from;
  spec.to_port = to;
}

// The request's permissions: IpPermissions, or the one the flat members (IpProtocol, CidrIp, ...) describe.
json permissions_of(const json& in) {
  json perms = in.value("IpPermissions", json::array());
  if (in.contains("IpProtocol") || in.contains("CidrIp") || in.contains("SourceSecurityGroupName")) {
    json p = {{"IpProtocol", in.value("IpProtocol", "-1")}};
    if (in.contains("FromPort")) p["FromPort"] = in["FromPort"];
    if (in.contains("ToPort")) p["ToPort"] = in["ToPort"];
    if (in.contains("CidrIp")) p["IpRanges"] = json::array({{{"CidrIp", in["CidrIp"]}}});
    if (in.contains("SourceSecurityGroupName")) {
      json pair = {{"GroupName", in["SourceSecurityGroupName"]}};
      if (in.contains("SourceSecurityGroupOwnerId")) pair["UserId"] = in["SourceSecurityGroupOwnerId"];
      p["UserIdGroupPairs"] = json::array({pair});
    }
    perms.push_back(p);
  }
  return perms;
}

// One RuleSpec per peer of each permission, with peers resolved and checked.
std::vector<domain::RuleSpec> rule_specs(store::Db& db, const RequestContext& ctx, const store::SecurityGroupRow& group,
                                         const json& perms) {
  std::vector<domain::RuleSpec> out;
  store::SecurityGroupRepo repo(db);
  for (const auto& perm : perms) {
    domain::RuleSpec base;
    base.protocol = normalize_protocol(perm.value("IpProtocol", ""));
    set_ports(base, perm);
    std::size_t before = out.size();
    for (const auto& r : perm.value("IpRanges", json::array())) {
      domain::RuleSpec s = base;
      s.cidr_ipv4 = r.value("CidrIp", "");
      if (!domain::parse_cidr(s.cidr_ipv4))
        throw ApiError("InvalidParameterValue",
                       "Value (" + s.cidr_ipv4 + ") for parameter cidrIp is invalid. This is not a valid CIDR block.");
      s.description = r.value("Description", "");
      out.push_back(s);
    }
    for (const auto& r : perm.value("Ipv6Ranges", json::array())) {
      domain::RuleSpec s = base;
      s.cidr_ipv6 = lower(r.value("CidrIpv6", ""));
      if (s.cidr_ipv6.find(':') == std::string::npos || s.cidr_ipv6.find('/') == std::string::npos)
        throw ApiError(
            "InvalidParameterValue",
            "Value (" + s.cidr_ipv6 + ") for parameter cidrIpv6 is invalid. This is not a valid CIDR block.");
      s.description = r.value("Description", "");
      out.push_back(s);
    }
    for (const auto& r : perm.value("PrefixListIds", json::array())) {
      domain::RuleSpec s = base;
      s.prefix_list_id = r.value("PrefixListId", "");
      s.description = r.value("Description", "");
      out.push_back(s);
    }
    for (const auto& r : perm.value("UserIdGroupPairs", json::array())) {
      domain::RuleSpec s = base;
      // A peer group must be in the same VPC (ecsd has no VPC peering).
      store::SecurityGroupRow peer = r.contains("GroupId")
                                         ? require_group_id(repo, ctx, r["GroupId"])
                                         : require_group_name(db, ctx, r.value("GroupName", ""), group.vpc_id);
      if (peer.vpc_id != group.vpc_id)
        throw ApiError("InvalidGroup.NotFound",
                       "The security group '" + peer.id + "' does not exist in VPC '" + group.vpc_id + "'");
      s.group_id = peer.id;
      s.user_id = r.value("UserId", ctx.scope.account);
      s.description = r.value("Description", "");
      out.push_back(s);
    }
    if (out.size() == before)
      throw ApiError("MissingParameter",
                     "Missing source specification: include source security group or CIDR information");
  }
  return out;
}

// What identifies a rule (its description does not).
std::string rule_key(const std::string& protocol, int from, int to, const std::string& peer) {
  return protocol + "|" + std::to_string(from) + "|" + std::to_string(to) + "|" + peer;
}
std::string peer_of(const domain::RuleSpec& s) {
  return !s.cidr_ipv4.empty()        ? s.cidr_ipv4
         : !s.cidr_ipv6.empty()      ? s.cidr_ipv6
         : !s.prefix_list_id.empty() ? s.prefix_list_id
                                     : s.group_id;
}
std::string peer_of(const json& rule) {
  if (rule.contains("CidrIpv4")) return rule["CidrIpv4"];
  if (rule.contains("CidrIpv6")) return rule["CidrIpv6"];
  if (rule.contains("PrefixListId")) return rule["PrefixListId"];
  if (rule.contains("ReferencedGroupInfo")) return rule["ReferencedGroupInfo"].value("GroupId", "");
  return "";
}
std::string key_of(const domain::RuleSpec& s) { return rule_key(s.protocol, s.from_port, s.to_port, peer_of(s)); }
std::string key_of(const json& rule) {
  return rule_key(rule.value("IpProtocol", ""), rule.value("FromPort", -1), rule.value("ToPort", -1), peer_of(rule));
}

// AWS's rendering of a rule in InvalidPermission.Duplicate.
std::string describe_rule(const domain::RuleSpec& s) {
  std::string proto = s.protocol == "-1" ? "ALL" : s.protocol;
  std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char c) { return std::toupper(c); });
  std::string ports = s.protocol == "-1"
                          ? ""
                          : ", from port: " + std::to_string(s.from_port) + ", to port: " + std::to_string(s.to_port);
  return "peer: " + peer_of(s) + ", " + proto + ports + ", ALLOW";
}

// Rules of one direction grouped into IpPermissions, in the order their first rule was added.
json ip_permissions(const std::vector<store::SecurityGroupRuleRow>& rules, bool egress) {
  json out = json::array();
  std::map<std::string, std::size_t> index;
  for (const auto& r : rules) {
    if (r.is_egress != egress) continue;
    const json& d = r.doc;
    std::string protocol = d.value("IpProtocol", "-1");
    std::string key = rule_key(protocol, d.value("FromPort", -1), d.value("ToPort", -1), "");
    auto [it, added] = index.emplace(key, out.size());
    if (added) {
      json p = {{"IpProtocol", protocol},
                {"UserIdGroupPairs", json::array()},
                {"IpRanges", json::array()},
                {"Ipv6Ranges", json::array()},
                {"PrefixListIds", json::array()}};
      if (protocol != "-1") {
        p["FromPort"] = d.value("FromPort", -1);
        p["ToPort"] = d.value("ToPort", -1);
      }
      out.push_back(p);
    }
    json& p = out[it->second];
    json entry;
    if (d.contains("CidrIpv4")) {
      entry = {{"CidrIp", d["CidrIpv4"]}};
    } else if (d.contains("CidrIpv6")) {
      entry = {{"CidrIpv6", d["CidrIpv6"]}};
    } else if (d.contains("PrefixListId")) {
      entry = {{"PrefixListId", d["PrefixListId"]}};
    } else {
      entry = {{"UserId", d["ReferencedGroupInfo"].value("UserId", "")},
               {"GroupId", d["ReferencedGroupInfo"].value("GroupId", "")}};
    }
    if (d.contains("Description")) entry["Description"] = d["Description"];
    const char* list = d.contains("CidrIpv4")       ? "IpRanges"
                       : d.contains("CidrIpv6")     ? "Ipv6Ranges"
                       : d.contains("PrefixListId") ? "PrefixListIds"
                                                    : "UserIdGroupPairs";
    p[list].push_back(entry);
  }
  return out;
}

json group_view(const store::SecurityGroupRow& g, const std::vector<store::SecurityGroupRuleRow>& rules,
                const store::Tags& tags) {
  json out = g.doc;
  out["IpPermissions"] = ip_permissions(rules, false);
  out["IpPermissionsEgress"] = ip_permissions(rules, true);
  if (!tags.empty()) out["Tags"] = tag_list(tags);
  return out;
}

FilterValues group_filter_values(const json& g, const store::Tags& tags,
                                 const std::map<std::string, std::string>& group_names) {
  FilterValues f = {{"description", {g.value("Description", "")}},
                    {"group-id", {g.value("GroupId", "")}},
                    {"group-name", {g.value("GroupName", "")}},
                    {"owner-id", {g.value("OwnerId", "")}},
                    {"vpc-id", {g.value("VpcId", "")}}};
  for (const auto& [member, prefix] :
       {std::pair{"IpPermissions", "ip-permission."}, std::pair{"IpPermissionsEgress", "egress.ip-permission."}}) {
    auto add = [&, prefix = std::string(prefix)](const std::string& name, const std::string& v) {
      f[prefix + name].push_back(v);
    };
    for (const auto& p : g[member]) {
      add("protocol", p.value("IpProtocol", ""));
      if (p.contains("FromPort")) add("from-port", std::to_string(p["FromPort"].get<int>()));
      if (p.contains("ToPort")) add("to-port", std::to_string(p["ToPort"].get<int>()));
      for (const auto& r : p["IpRanges"]) add("cidr", r.value("CidrIp", ""));
      for (const auto& r : p["Ipv6Ranges"]) add("ipv6-cidr", r.value("CidrIpv6", ""));
      for (const auto& r : p["PrefixListIds"]) add("prefix-list-id", r.value("PrefixListId", ""));
      for (const auto& r : p["UserIdGroupPairs"]) {
        std::string gid = r.value("GroupId", "");
        add("group-id", gid);
        add("user-id", r.value("UserId", ""));
        if (auto it = group_names.find(gid); it != group_names.end()) add("group-name", it->second);
      }
    }
  }
  add_tag_values(f, tags);
  return f;
}

json rule_view(const store::SecurityGroupRuleRow& r, const store::Tags& tags) {
  json out = r.doc;
  out["Tags"] = tag_list(tags);
  return out;
}

json revoked_view(const store::SecurityGroupRuleRow& r) {
  const json& d = r.doc;
  json out = {{"SecurityGroupRuleId", r.id},
              {"GroupId", r.group_id},
              {"IsEgress", r.is_egress},
              {"IpProtocol", d.value("IpProtocol", "-1")},
              {"FromPort", d.value("FromPort", -1)},
              {"ToPort", d.value("ToPort", -1)}};
  for (const char* m : {"CidrIpv4", "CidrIpv6", "PrefixListId", "Description"})
    if (d.contains(m)) out[m] = d[m];
  if (d.contains("ReferencedGroupInfo")) out["ReferencedGroupId"] = d["ReferencedGroupInfo"].value("GroupId", "");
  return out;
}

// @return group id -> name for the scope (names of peer groups in permissions and filters).
std::map<std::string, std::string> group_names(store::Db& db, const RequestContext& ctx) {
  std::map<std::string, std::string> out;
  for (const auto& g : store::SecurityGroupRepo(db).list(ctx.scope)) out[g.id] = g.name;
  return out;
}

json authorize(RequestContext& ctx, const json& in, bool egress) {
  store::Tags tags = tag_specifications(in, "security-group-rule");
  json perms = permissions_of(in);
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::SecurityGroupRow group = target_group(db, ctx, in);
    auto specs = rule_specs(db, ctx, group, perms);
    store::SecurityGroupRepo repo(db);
    std::set<std::string> existing;
    for (const auto& r : repo.rules(group.id))
      if (r.is_egress == egress) existing.insert(key_of(r.doc));
    json created = json::array();
    store::Ec2TagRepo tag_repo(db);
    for (const auto& s : specs) {
      if (!existing.insert(key_of(s)).second)
        throw ApiError("InvalidPermission.Duplicate", "the specified rule \"" + describe_rule(s) + "\" already exists");
      auto row = domain::new_rule(ctx.scope, group.id, egress, s, ctx.now);
      repo.insert_rule(row);
      tag_repo.put(ctx.scope, row.id, "security-group-rule", tags);
      created.push_back(rule_view(row, tags));
    }
    return json{{"Return", true}, {"SecurityGroupRules", created}};
  });
}

json revoke(RequestContext& ctx, const json& in, bool egress) {
  json perms = permissions_of(in);
  auto rule_ids = strings(in, "SecurityGroupRuleIds");
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::SecurityGroupRow group = target_group(db, ctx, in);
    store::SecurityGroupRepo repo(db);
    std::vector<store::SecurityGroupRuleRow> rules;
    for (auto& r : repo.rules(group.id))
      if (r.is_egress == egress) rules.push_back(std::move(r));
    std::vector<const store::SecurityGroupRuleRow*> doomed;
    for (const auto& id : rule_ids) {
      auto it = std::find_if(rules.begin(), rules.end(), [&](const auto& r) { return r.id == id; });
      if (it == rules.end())
        throw ApiError("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '" + id + "' does not exist");
      doomed.push_back(&*it);
    }
    json unknown = json::array();
    if (!perms.empty()) {
      for (const auto& perm : perms) {
        bool matched_any = false;
        for (const auto& s : rule_specs(db, ctx, group, json::array({perm}))) {
          auto it = std::find_if(rules.begin(), rules.end(), [&](const auto& r) { return key_of(r.doc) == key_of(s); });
          if (it == rules.end()) continue;
          matched_any = true;
          if (std::find(doomed.begin(), doomed.end(), &*it) == doomed.end()) doomed.push_back(&*it);
        }
        if (!matched_any) unknown.push_back(perm);
      }
    }
    if (doomed.empty())
      throw ApiError("InvalidPermission.NotFound", "The specified rule does not exist in this security group.");
    json revoked = json::array();
    store::Ec2TagRepo tags(db);
    for (const auto* r : doomed) {
      revoked.push_back(revoked_view(*r));
      tags.remove_all(r->id);
      repo.remove_rule(r->id);
    }
    json out = {{"Return", true}, {"RevokedSecurityGroupRules", revoked}};
    if (!unknown.empty()) out["UnknownIpPermissions"] = unknown;
    return out;
  });
}

}  // namespace

json create_security_group(RequestContext& ctx, const json& in) {
  std::string name = in["GroupName"];
  std::string description = in["Description"];
  if (name.empty() || name.size() > 255)
    throw ApiError("InvalidParameterValue", "Invalid value '" + name + "' for groupName. Length must be 1-255.");
  if (description.size() > 255)
    throw ApiError("InvalidParameterValue", "Invalid value for groupDescription. Length must be 0-255.");
  if (name.rfind("sg-", 0) == 0) throw ApiError("InvalidParameterValue", "Group names may not be in the format sg-*");
  if (name == "default") throw ApiError("InvalidGroup.Reserved", "The security group 'default' is reserved");
  store::Tags tags = tag_specifications(in, "security-group");
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    std::string vpc_id;
    if (in.contains("VpcId")) {
      vpc_id = in["VpcId"];
      if (!store::VpcRepo(db).find(ctx.scope, vpc_id))
        throw ApiError("InvalidVpcID.NotFound", "The vpc ID '" + vpc_id + "' does not exist");
    } else {
      auto vpc = store::VpcRepo(db).find_default(ctx.scope);
      if (!vpc) throw ApiError("VPCIdNotSpecified", "No default VPC for this user");
      vpc_id = vpc->id;
    }
    store::SecurityGroupRepo repo(db);
    if (repo.find_by_name(ctx.scope, vpc_id, name))
      throw ApiError("InvalidGroup.Duplicate",
                     "The security group '" + name + "' already exists for VPC '" + vpc_id + "'");
    auto group = domain::new_security_group(ctx.scope, domain::new_id("sg"), vpc_id, name, description, ctx.now);
    domain::create_security_group(db, ctx.scope, group);
    store::Ec2TagRepo(db).put(ctx.scope, group.id, "security-group", tags);
    json out = {{"GroupId", group.id}, {"SecurityGroupArn", group.doc["SecurityGroupArn"]}};
    if (!tags.empty()) out["Tags"] = tag_list(tags);
    return out;
  });
}

json delete_security_group(RequestContext& ctx, const json& in) {
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::SecurityGroupRow group = target_group(db, ctx, in);
    if (group.name == "default")
      throw ApiError("CannotDelete",
                     "the specified group: \"" + group.id + "\" name: \"default\" cannot be deleted by a user");
    store::SecurityGroupRepo repo(db);
    bool in_use = !repo.rules_referencing(group.id).empty();
    for (const auto& eni : domain::task_interfaces(db, ctx.scope))
      in_use = in_use ||
               std::find(eni.security_groups.begin(), eni.security_groups.end(), group.id) != eni.security_groups.end();
    if (in_use) throw ApiError("DependencyViolation", "resource " + group.id + " has a dependent object");
    store::Ec2TagRepo tags(db);
    for (const auto& r : repo.rules(group.id)) tags.remove_all(r.id);
    tags.remove_all(group.id);
    repo.remove(group.id);
    return json{{"Return", true}, {"GroupId", group.id}};
  });
}

json describe_security_groups(RequestContext& ctx, const json& in) {
  Filters filters(in.value("Filters", json()), kGroupFilters);
  auto ids = strings(in, "GroupIds");
  auto names = strings(in, "GroupNames");
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    auto default_vpc = store::VpcRepo(db).find_default(ctx.scope);
    std::string default_vpc_id = default_vpc ? default_vpc->id : "none";
    // GroupNames name groups of the default VPC.
    for (const auto& n : names) require_group_name(db, ctx, n, default_vpc_id);
    auto id_names = group_names(db, ctx);
    store::SecurityGroupRepo repo(db);
    store::Ec2TagRepo tags(db);
    json out = json::array();
    std::set<std::string> found;
    for (const auto& g : repo.list(ctx.scope)) {
      bool named = std::find(names.begin(), names.end(), g.name) != names.end() && g.vpc_id == default_vpc_id;
      if ((!ids.empty() || !names.empty()) && std::find(ids.begin(), ids.end(), g.id) == ids.end() && !named) continue;
      found.insert(g.id);
      auto t = tags.get(g.id);
      json v = group_view(g, repo.rules(g.id), t);
      if (filters.matches(group_filter_values(v, t, id_names))) out.push_back(std::move(v));
    }
    require_found(ids, found, "InvalidGroup.NotFound", "security group");
    return page(std::move(out), in, "SecurityGroups");
  });
}

json authorize_security_group_ingress(RequestContext& ctx, const json& in) { return authorize(ctx, in, false); }
json authorize_security_group_egress(RequestContext& ctx, const json& in) { return authorize(ctx, in, true); }
json revoke_security_group_ingress(RequestContext& ctx, const json& in) { return revoke(ctx, in, false); }
json revoke_security_group_egress(RequestContext& ctx, const json& in) { return revoke(ctx, in, true); }

json describe_security_group_rules(RequestContext& ctx, const json& in) {
  Filters filters(in.value("Filters", json()), kRuleFilters);
  auto ids = strings(in, "SecurityGroupRuleIds");
  return ctx.store.write([&](store::Db& db) {
    domain::ensure_default_vpc(db, ctx.scope);
    store::Ec2TagRepo tags(db);
    json out = json::array();
    std::set<std::string> found;
    for (const auto& r : store::SecurityGroupRepo(db).all_rules(ctx.scope)) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), r.id) == ids.end()) continue;
      found.insert(r.id);
      auto t = tags.get(r.id);
      FilterValues f = {{"group-id", {r.group_id}}, {"security-group-rule-id", {r.id}}};
      add_tag_values(f, t);
      if (filters.matches(f)) out.push_back(rule_view(r, t));
    }
    require_found(ids, found, "InvalidSecurityGroupRuleId.NotFound", "security group rule ID");
    return page(std::move(out), in, "SecurityGroupRules");
  });
}

}  // namespace ecsd::services::ec2
