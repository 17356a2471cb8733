// EC2 networking rules shared by the EC2 handlers, ECS (awsvpc tasks) and ELBv2 (load balancer
// subnets and security groups): availability zones, IPv4 CIDR arithmetic, the default VPC every
// (account, region) has, new VPC/subnet/security group rows, and the ENIs of awsvpc tasks.
// Functions taking a Db run inside the caller's store transaction.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecsd/store/ec2_repo.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::domain {

using nlohmann::json;

struct AvailabilityZone {
  std::string name, id;  // "us-east-1a", "use1-az1"
};

/// @return the region's zones: six (a..f) in us-east-1, four in us-west-2, three elsewhere.
std::vector<AvailabilityZone> availability_zones(const std::string& region);

/// An IPv4 CIDR block.
struct Cidr {
  std::uint32_t base = 0;
  int prefix = 0;

  std::uint64_t size() const { return std::uint64_t{1} << (32 - prefix); }
  std::uint32_t last() const { return static_cast<std::uint32_t>(base + size() - 1); }
  bool contains(const Cidr& o) const { return o.base >= base && o.last() <= last(); }
  bool contains(std::uint32_t ip) const { return ip >= base && ip <= last(); }
  bool overlaps(const Cidr& o) const { return o.base <= last() && base <= o.last(); }
  std::string str() const;
};

/// @return the block for "a.b.c.d/n", or nullopt when malformed or when bits beyond the prefix are set.
std::optional<Cidr> parse_cidr(std::string_view s);
/// @return the address for "a.b.c.d", or nullopt when malformed.
std::optional<std::uint32_t> parse_ipv4(std::string_view s);
std::string ipv4_string(std::uint32_t ip);

/// @return a new EC2 id: `prefix`, a dash and 17 hex digits ("vpc-0a1b2c3d4e5f60718").
std::string new_id(std::string_view prefix);

/// The default VPC's block and the /20 of its default subnet in the zone with index `zone_index`.
inline constexpr const char* kDefaultVpcCidr = "172.31.0.0/16";
Cidr default_subnet_cidr(std::size_t zone_index);

/// Creates the scope's default VPC (172.31.0.0/16), one default subnet per zone (172.31.0.0/20,
/// 172.31.16.0/20, ...) and the VPC's default security group, the first time the scope uses
/// networking. Ids are derived from account and region, so they are stable across resets. Once
/// created, a deleted default VPC is not re-created.
void ensure_default_vpc(store::Db& db, const store::Scope& scope);

/// New rows in the AWS shape (not inserted). `id` is the AWS id ("vpc-...", "subnet-...", "sg-...").
store::VpcRow new_vpc(const store::Scope& scope, const std::string& id, const Cidr& cidr, bool is_default, double now);
store::SubnetRow new_subnet(const store::Scope& scope, const std::string& id, const std::string& vpc_id,
                            const AvailabilityZone& zone, const Cidr& cidr, bool default_for_az, double now);
store::SecurityGroupRow new_security_group(const store::Scope& scope, const std::string& id, const std::string& vpc_id,
                                           const std::string& name, const std::string& description, double now);

/// One security group rule: a protocol and port range, and one peer (a CIDR, a prefix list or a group).
struct RuleSpec {
  std::string protocol = "-1";  // "tcp", "udp", "icmp", "icmpv6", "-1" or a protocol number
  int from_port = -1, to_port = -1;
  std::string cidr_ipv4, cidr_ipv6, prefix_list_id;
  std::string group_id, user_id;  // peer security group (user_id: its owner)
  std::string description;
};

/// @return a rule row in the SecurityGroupRule shape with a new "sgr-" id.
store::SecurityGroupRuleRow new_rule(const store::Scope& scope, const std::string& group_id, bool egress,
                                     const RuleSpec& spec, double now);

/// Inserts a security group with the rules every new group has: all egress to 0.0.0.0/0, and for
/// a VPC's "default" group also all ingress from itself.
void create_security_group(store::Db& db, const store::Scope& scope, const store::SecurityGroupRow& group);

/// Subnet facts other services check (ELBv2: an ALB needs subnets in two zones).
struct SubnetInfo {
  std::string id, vpc_id, az, cidr;
};

/// @return the subnets among `ids` that exist in the scope, in the order of `ids` (missing ones left out).
std::vector<SubnetInfo> subnets(store::Db& db, const store::Scope& scope, const std::vector<std::string>& ids);

struct SecurityGroupInfo {
  std::string id, vpc_id, name;
};

/// @return the security groups among `ids` that exist in the scope, in the order of `ids`.
std::vector<SecurityGroupInfo> security_groups(store::Db& db, const store::Scope& scope,
                                               const std::vector<std::string>& ids);

/// @return the id of `vpc_id`'s "default" security group, or "" when the VPC has none.
std::string default_security_group(store::Db& db, const store::Scope& scope, const std::string& vpc_id);

/// Checks an ECS awsvpcConfiguration ({subnets, securityGroups, assignPublicIp}, or a
/// networkConfiguration wrapping one) against the scope's subnets and security groups.
/// @return "" when they all exist, else the message of ECS's InvalidParameterException, e.g.
///         "Error retrieving subnet information for [subnet-1]: The subnet ID 'subnet-1' does not
///         exist (Service: AmazonEC2; Status Code: 400; Error Code: InvalidSubnetID.NotFound; ...)".
std::string check_awsvpc_configuration(store::Db& db, const store::Scope& scope, const json& awsvpc_configuration);

/// An awsvpc task's ENI as EC2 sees it.
struct TaskInterface {
  std::string id;  // "eni-..."
  std::string task_arn, attachment_id;
  bool attached = false;  // attachment status ATTACHED (reported by DescribeNetworkInterfaces)
  std::string subnet_id, private_ip, mac_address, private_dns_name;
  std::vector<std::string> security_groups;  // as the task asked for them (may be empty)
  std::string availability_zone;             // the task's zone
  double attach_time = 0;                    // when the task got connectivity (0: not yet)
};

/// @return the ENIs of the scope's unstopped awsvpc tasks (attached or not yet).
std::vector<TaskInterface> task_interfaces(store::Db& db, const store::Scope& scope);

}  // namespace ecsd::domain
