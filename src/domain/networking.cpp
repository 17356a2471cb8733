// Zones, CIDR arithmetic, the default VPC, new networking rows, awsvpc checks and task ENIs.
#include "ecsd/domain/networking.hpp"

#include <algorithm>
#include <charconv>

#include "ecsd/common/arn.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/common/ids.hpp"

namespace ecsd::domain {

namespace {

// "us-east-1" -> "use1", "ap-southeast-2" -> "apse2": the prefix of AWS's zone ids (direction
// words abbreviate to their initials, in order).
std::string zone_id_prefix(const std::string& region) {
  auto first = std::find(region.begin(), region.end(), '-');
  auto last = std::find(region.rbegin(), region.rend(), '-').base();  // one past the last '-'
  if (first == region.end() || last <= first + 1) return region;
  std::string_view dir(&*(first + 1), static_cast<std::size_t>(last - 1 - (first + 1)));
  std::string abbrev;
  while (!dir.empty()) {
    std::size_t step = 1;
    for (std::string_view word : {"north", "south", "east", "west", "central"})
      if (dir.substr(0, word.size()) == word) {
        abbrev.push_back(word[0]);
        step = word.size();
        break;
      }
    dir.remove_prefix(step);
  }
  return std::string(region.begin(), first) + abbrev + std::string(last, region.end());
}

// A stable 17-hex-digit id suffix for resources every scope has (the default VPC and its parts).
std::string stable_hex(const store::Scope& scope, std::string_view what) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (std::string_view part : {std::string_view(scope.account), std::string_view("|"), std::string_view(scope.region),
                                std::string_view("|"), what}) {
    for (unsigned char c : part) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  }
  h ^= h >> 30;  // splitmix64's finalizer, so that similar inputs give unrelated ids
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0";
  for (int i = 15; i >= 0; --i) out.push_back(kHex[(h >> (i * 4)) & 0xf]);
  return out;
}

std::vector<std::string> strings_of(const json& v) {
  std::vector<std::string> out;
  if (v.is_array())
    for (const auto& s : v)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The message EC2 errors carry when another AWS service reports them.
std::string ec2_cause(const std::string& message, const std::string& code) {
  return message + " (Service: AmazonEC2; Status Code: 400; Error Code: " + code + "; Request ID: " + ids::uuid() +
         "; Proxy: null)";
}

std::string detail(const json& attachment, const std::string& name) {
  for (const auto& d : attachment.value("details", json::array()))
    if (d.value("name", "") == name) return d.value("value", "");
  return "";
}

}  // namespace

std::vector<AvailabilityZone> availability_zones(const std::string& region) {
  std::size_t n = region == "us-east-1" ? 6 : region == "us-west-2" ? 4 : 3;
  std::string prefix = zone_id_prefix(region);
  std::vector<AvailabilityZone> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({region + static_cast<char>('a' + i), prefix + "-az" + std::to_string(i + 1)});
  return out;
}

// 17-digit ids are 64-bit numbers printed with a leading zero, as AWS's are.
std::string new_id(std::string_view prefix) { return std::string(prefix) + "-0" + ids::hex(16); }

std::string Cidr::str() const { return ipv4_string(base) + "/" + std::to_string(prefix); }

std::optional<std::uint32_t> parse_ipv4(std::string_view s) {
  std::uint32_t ip = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned octet = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), octet);
    if (ec != std::errc() || p == s.data() || octet > 255 || (p - s.data() > 1 && s[0] == '0')) return std::nullopt;
    ip = (ip << 8) | octet;
    s.remove_prefix(static_cast<std::size_t>(p - s.data()));
    if (i < 3) {
      if (s.empty() || s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
    }
  }
  if (!s.empty()) return std::nullopt;
  return ip;
}

std::string ipv4_string(std::uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." + std::to_string((ip >> 8) & 0xff) +
         "." + std::to_string(ip & 0xff);
}

std::optional<Cidr> parse_cidr(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parse_ipv4(s.substr(0, slash));
  std::string_view len = s.substr(slash + 1);
  int prefix = -1;
  auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
  if (!ip || ec != std::errc() || p != len.data() + len.size() || prefix < 0 || prefix > 32) return std::nullopt;
  std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  if ((*ip & ~mask) != 0) return std::nullopt;
  return Cidr{*ip, prefix};
}

Cidr default_subnet_cidr(std::size_t zone_index) {
  return Cidr{(172u << 24) | (31u << 16) | static_cast<std::uint32_t>(zone_index << 12), 20};
}

store::VpcRow new_vpc(const store::Scope& scope, const std::string& id, const Cidr& cidr, bool is_default, double now) {
  store::VpcRow r;
  r.id = id;
  r.cidr = cidr.str();
  r.is_default = is_default;
  r.created_at = now;
  r.doc = {{"OwnerId", scope.account},
           {"InstanceTenancy", "default"},
           {"CidrBlockAssociationSet", json::array({{{"AssociationId", "vpc-cidr-assoc-" + id.substr(4)},
                                                     {"CidrBlock", r.cidr},
                                                     {"CidrBlockState", {{"State", "associated"}}}}})},
           {"IsDefault", is_default},
           {"BlockPublicAccessStates", {{"InternetGatewayBlockMode", "off"}}},
           {"VpcId", id},
           {"State", "available"},
           {"CidrBlock", r.cidr},
           {"DhcpOptionsId", "dopt-" + stable_hex(scope, "dhcp-options")}};
  return r;
}

store::SubnetRow new_subnet(const store::Scope& scope, const std::string& id, const std::string& vpc_id,
                            const AvailabilityZone& zone, const Cidr& cidr, bool default_for_az, double now) {
  store::SubnetRow r;
  r.id = id;
  r.vpc_id = vpc_id;
  r.az = zone.name;
  r.cidr = cidr.str();
  r.created_at = now;
  r.doc = {{"AvailabilityZoneId", zone.id},
           {"MapCustomerOwnedIpOnLaunch", false},
           {"OwnerId", scope.account},
           {"AssignIpv6AddressOnCreation", false},
           {"Ipv6CidrBlockAssociationSet", json::array()},
           {"SubnetArn", arn::make("ec2", scope.region, scope.account, "subnet/" + id)},
           {"EnableDns64", false},
           {"Ipv6Native", false},
           {"PrivateDnsNameOptionsOnLaunch",
            {{"HostnameType", "ip-name"},
             {"EnableResourceNameDnsARecord", false},
             {"EnableResourceNameDnsAAAARecord", false}}},
           {"BlockPublicAccessStates", {{"InternetGatewayBlockMode", "off"}}},
           {"SubnetId", id},
           {"State", "available"},
           {"VpcId", vpc_id},
           {"CidrBlock", r.cidr},
           {"AvailabilityZone", zone.name},
           {"DefaultForAz", default_for_az},
           {"MapPublicIpOnLaunch", default_for_az}};
  return r;
}

store::SecurityGroupRow new_security_group(const store::Scope& scope, const std::string& id, const std::string& vpc_id,
                                           const std::string& name, const std::string& description, double now) {
  store::SecurityGroupRow r;
  r.id = id;
  r.vpc_id = vpc_id;
  r.name = name;
  r.created_at = now;
  r.doc = {{"GroupId", id},
           {"VpcId", vpc_id},
           {"SecurityGroupArn", arn::make("ec2", scope.region, scope.account, "security-group/" + id)},
           {"OwnerId", scope.account},
           {"GroupName", name},
           {"Description", description}};
  return r;
}

store::SecurityGroupRuleRow new_rule(const store::Scope& scope, const std::string& group_id, bool egress,
                                     const RuleSpec& spec, double now) {
  store::SecurityGroupRuleRow r;
  r.id = new_id("sgr");
  r.group_id = group_id;
  r.is_egress = egress;
  r.referenced_group_id = spec.group_id;
  r.created_at = now;
  r.doc = {{"SecurityGroupRuleId", r.id},
           {"GroupId", group_id},
           {"GroupOwnerId", scope.account},
           {"IsEgress", egress},
           {"IpProtocol", spec.protocol},
           {"FromPort", spec.from_port},
           {"ToPort", spec.to_port},
           {"SecurityGroupRuleArn", arn::make("ec2", scope.region, scope.account, "security-group-rule/" + r.id)}};
  if (!spec.cidr_ipv4.empty()) r.doc["CidrIpv4"] = spec.cidr_ipv4;
  if (!spec.cidr_ipv6.empty()) r.doc["CidrIpv6"] = spec.cidr_ipv6;
  if (!spec.prefix_list_id.empty()) r.doc["PrefixListId"] = spec.prefix_list_id;
  if (!spec.group_id.empty())
    r.doc["ReferencedGroupInfo"] = {{"GroupId", spec.group_id},
                                    {"UserId", spec.user_id.empty() ? scope.account : spec.user_id}};
  if (!spec.description.empty()) r.doc["Description"] = spec.description;
  return r;
}

void create_security_group(store::Db& db, const store::Scope& scope, const store::SecurityGroupRow& group) {
  store::SecurityGroupRepo repo(db);
  repo.insert(scope, group);
  if (group.name == "default") {
    RuleSpec self;
    self.group_id = group.id;
    repo.insert_rule(new_rule(scope, group.id, false, self, group.created_at));
  }
  RuleSpec all;
  all.cidr_ipv4 = "0.0.0.0/0";
  repo.insert_rule(new_rule(scope, group.id, true, all, group.created_at));
}

void ensure_default_vpc(store::Db& db, const store::Scope& scope) {
  store::VpcRepo vpcs(db);
  if (vpcs.defaults_created(scope)) return;
  // A savepoint makes the creation atomic inside or outside the caller's transaction.
  db.exec("SAVEPOINT ensure_default_vpc");
  try {
    double now = clock().now();
    std::string vpc_id = "vpc-" + stable_hex(scope, "default-vpc");
    vpcs.insert(scope, new_vpc(scope, vpc_id, *parse_cidr(kDefaultVpcCidr), true, now));
    store::SubnetRepo subnets(db);
    auto zones = availability_zones(scope.region);
    for (std::size_t i = 0; i < zones.size(); ++i)
      subnets.insert(scope, new_subnet(scope, "subnet-" + stable_hex(scope, "default-subnet-" + zones[i].name), vpc_id,
                                       zones[i], default_subnet_cidr(i), true, now));
    create_security_group(db, scope,
                          new_security_group(scope, "sg-" + stable_hex(scope, "default-sg"), vpc_id, "default",
                                             "default VPC security group", now));
    vpcs.mark_defaults_created(scope);
    db.exec("RELEASE ensure_default_vpc");
  } catch (...) {
    db.exec("ROLLBACK TO ensure_default_vpc");
    db.exec("RELEASE ensure_default_vpc");
    throw;
  }
}

std::vector<SubnetInfo> subnets(store::Db& db, const store::Scope& scope, const std::vector<std::string>& ids) {
  ensure_default_vpc(db, scope);
  store::SubnetRepo repo(db);
  std::vector<SubnetInfo> out;
  for (const auto& id : ids)
    if (auto s = repo.find(scope, id)) out.push_back({s->id, s->vpc_id, s->az, s->cidr});
  return out;
}

std::vector<SecurityGroupInfo> security_groups(store::Db& db, const store::Scope& scope,
                                               const std::vector<std::string>& ids) {
  ensure_default_vpc(db, scope);
  store::SecurityGroupRepo repo(db);
  std::vector<SecurityGroupInfo> out;
  for (const auto& id : ids)
    if (auto g = repo.find(scope, id)) out.push_back({g->id, g->vpc_id, g->name});
  return out;
}

std::string default_security_group(store::Db& db, const store::Scope& scope, const std::string& vpc_id) {
  ensure_default_vpc(db, scope);
  auto g = store::SecurityGroupRepo(db).find_by_name(scope, vpc_id, "default");
  return g ? g->id : "";
}

std::string check_awsvpc_configuration(store::Db& db, const store::Scope& scope, const json& awsvpc_configuration) {
  const json& cfg = awsvpc_configuration.is_object() && awsvpc_configuration.contains("awsvpcConfiguration")
                        ? awsvpc_configuration["awsvpcConfiguration"]
                        : awsvpc_configuration;
  if (!cfg.is_object()) return "";
  ensure_default_vpc(db, scope);
  auto subnet_ids = strings_of(cfg.value("subnets", json::array()));
  store::SubnetRepo subnet_repo(db);
  for (const auto& id : subnet_ids)
    if (!subnet_repo.find(scope, id))
      return "Error retrieving subnet information for [" + join(subnet_ids) +
             "]: " + ec2_cause("The subnet ID '" + id + "' does not exist", "InvalidSubnetID.NotFound");
  auto group_ids = strings_of(cfg.value("securityGroups", json::array()));
  store::SecurityGroupRepo group_repo(db);
  for (const auto& id : group_ids)
    if (!group_repo.find(scope, id))
      return "Error retrieving security group information for [" + join(group_ids) +
             "]: " + ec2_cause("The security group '" + id + "' does not exist", "InvalidGroup.NotFound");
  return "";
}

std::vector<TaskInterface> task_interfaces(store::Db& db, const store::Scope& scope) {
  std::vector<TaskInterface> out;
  for (const auto& t : store::awsvpc_tasks(db, scope)) {
    const json& att = t.doc["attachments"][0];
    TaskInterface eni;
    eni.id = detail(att, "networkInterfaceId");
    if (eni.id.empty()) continue;
    eni.task_arn = t.task_arn;
    eni.attachment_id = att.value("id", "");
    eni.attached = att.value("status", "") == "ATTACHED";
    eni.subnet_id = detail(att, "subnetId");
    eni.private_ip = detail(att, "privateIPv4Address");
    eni.mac_address = detail(att, "macAddress");
    eni.private_dns_name = detail(att, "privateDnsName");
    eni.availability_zone = t.doc.value("availabilityZone", "");
    if (t.doc.contains("connectivityAt") && t.doc["connectivityAt"].is_number())
      eni.attach_time = t.doc["connectivityAt"].get<double>();
    json network = t.doc.contains("_ecsd") ? t.doc["_ecsd"].value("network", json::object()) : json::object();
    if (network.is_object() && network.contains("awsvpcConfiguration")) network = network["awsvpcConfiguration"];
    if (network.is_object()) {
      eni.security_groups = strings_of(network.value("securityGroups", json::array()));
      if (eni.subnet_id.empty()) {
        auto subnet_ids = strings_of(network.value("subnets", json::array()));
        if (!subnet_ids.empty()) eni.subnet_id = subnet_ids[0];
      }
    }
    out.push_back(std::move(eni));
  }
  return out;
}

}  // namespace ecsd::domain
