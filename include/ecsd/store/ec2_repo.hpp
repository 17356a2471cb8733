// EC2 networking rows: VPCs, subnets, security groups and their rules, EC2 tags, and a
// read-only view of the awsvpc tasks whose ENIs EC2 reports. Each row keeps the AWS shape
// (without Tags, which live in ec2_tags) in `doc`; the columns are what we look up or constrain.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecsd/store/store.hpp"
#include "ecsd/store/tag_repo.hpp"

namespace ecsd::store {

struct VpcRow {
  std::string id, cidr;
  bool is_default = false;
  nlohmann::json doc;  // the Vpc shape
  double created_at = 0;
};

struct SubnetRow {
  std::string id, vpc_id, az, cidr;
  nlohmann::json doc;  // the Subnet shape (AvailableIpAddressCount is computed when read)
  double created_at = 0;
};

struct SecurityGroupRow {
  std::string id, vpc_id, name;
  nlohmann::json doc;  // the SecurityGroup shape without its permissions (those are rule rows)
  double created_at = 0;
};

struct SecurityGroupRuleRow {
  std::string id, group_id;
  bool is_egress = false;
  std::string referenced_group_id;  // "" unless the rule's peer is a security group
  nlohmann::json doc;               // the SecurityGroupRule shape
  double created_at = 0;
};

struct Ec2Tag {
  std::string resource_id, resource_type, key, value;
};

/// An unstopped task whose first attachment is an ENI (awsvpc network mode).
struct AwsvpcTaskRow {
  std::string task_arn, last_status;
  nlohmann::json doc;  // the task doc, including the private "_ecsd" member
};

class VpcRepo {
 public:
  explicit VpcRepo(Db& db) : db_(db) {}
  std::optional<VpcRow> find(const Scope& scope, std::string_view id);
  std::optional<VpcRow> find_default(const Scope& scope);
  /// @return the scope's VPCs by creation.
  std::vector<VpcRow> list(const Scope& scope);
  void insert(const Scope& scope, const VpcRow& r);
  void remove(std::string_view id);
  /// @return true once the scope's default VPC was created (it is not re-created after a delete).
  bool defaults_created(const Scope& scope);
  void mark_defaults_created(const Scope& scope);

 private:
  Db& db_;
};

class SubnetRepo {
 public:
  explicit SubnetRepo(Db& db) : db_(db) {}
  std::optional<SubnetRow> find(const Scope& scope, std::string_view id);
  /// @return the scope's subnets by creation.
  std::vector<SubnetRow> list(const Scope& scope);
  std::vector<SubnetRow> list_in_vpc(std::string_view vpc_id);
  void insert(const Scope& scope, const SubnetRow& r);
  void remove(std::string_view id);

 private:
  Db& db_;
};

class SecurityGroupRepo {
 public:
  explicit SecurityGroupRepo(Db& db) : db_(db) {}
  std::optional<SecurityGroupRow> find(const Scope& scope, std::string_view id);
  std::optional<SecurityGroupRow> find_by_name(const Scope& scope, std::string_view vpc_id, std::string_view name);
  /// @return the scope's security groups by creation.
  std::vector<SecurityGroupRow> list(const Scope& scope);
  std::vector<SecurityGroupRow> list_in_vpc(std::string_view vpc_id);
  void insert(const Scope& scope, const SecurityGroupRow& r);
  /// Removes the group and its rules.
  void remove(std::string_view id);

  /// @return the group's rules (both directions) in the order they were added.
  std::vector<SecurityGroupRuleRow> rules(std::string_view group_id);
  /// @return every rule of the scope's groups, in the order they were added.
  std::vector<SecurityGroupRuleRow> all_rules(const Scope& scope);
  /// @return the rules of other groups whose peer is `group_id`.
  std::vector<SecurityGroupRuleRow> rules_referencing(std::string_view group_id);
  void insert_rule(const SecurityGroupRuleRow& r);
  void remove_rule(std::string_view rule_id);

 private:
  Db& db_;
};

/// EC2 tags, keyed by resource id (ids are unique across types and scopes).
class Ec2TagRepo {
 public:
  explicit Ec2TagRepo(Db& db) : db_(db) {}
  Tags get(std::string_view resource_id);
  /// Adds or overwrites each tag.
  void put(const Scope& scope, std::string_view resource_id, std::string_view resource_type, const Tags& tags);
  /// Removes `key`; when `value` is given, only if the tag has that value.
  void remove(std::string_view resource_id, std::string_view key, const std::optional<std::string>& value);
  void remove_all(std::string_view resource_id);
  /// @return every tag of the scope, by resource id then key.
  std::vector<Ec2Tag> list(const Scope& scope);

 private:
  Db& db_;
};

/// @return the scope's tasks that are not STOPPED and have an ElasticNetworkInterface attachment.
std::vector<AwsvpcTaskRow> awsvpc_tasks(Db& db, const Scope& scope);

}  // namespace ecsd::store
