// VPC, subnet, security group, security group rule and EC2 tag rows; the awsvpc task view.
#include "ecsd/store/ec2_repo.hpp"

namespace ecsd::store {

namespace {
using nlohmann::json;

constexpr const char* kVpcFind =
    "SELECT vpc_id, cidr, is_default, doc, created_at FROM vpcs WHERE account=? AND region=? AND vpc_id=?";
constexpr const char* kVpcFindDefault =
    "SELECT vpc_id, cidr, is_default, doc, created_at FROM vpcs WHERE account=? AND region=? AND is_default=1";
constexpr const char* kVpcList =
    "SELECT vpc_id, cidr, is_default, doc, created_at FROM vpcs WHERE account=? AND region=? ORDER BY rowid";
constexpr const char* kVpcInsert =
    "INSERT INTO vpcs(vpc_id, account, region, cidr, is_default, doc, created_at) VALUES(?,?,?,?,?,?,?)";
constexpr const char* kVpcRemove = "DELETE FROM vpcs WHERE vpc_id=?";
constexpr const char* kScopeFind = "SELECT 1 FROM ec2_scopes WHERE account=? AND region=?";
constexpr const char* kScopeInsert = "INSERT OR IGNORE INTO ec2_scopes(account, region) VALUES(?,?)";

constexpr const char* kSubnetFind =
    "SELECT subnet_id, vpc_id, az, cidr, doc, created_at FROM subnets WHERE account=? AND region=? AND subnet_id=?";
constexpr const char* kSubnetList =
    "SELECT subnet_id, vpc_id, az, cidr, doc, created_at FROM subnets WHERE account=? AND region=? ORDER BY rowid";
constexpr const char* kSubnetListInVpc =
    "SELECT subnet_id, vpc_id, az, cidr, doc, created_at FROM subnets WHERE vpc_id=? ORDER BY rowid";
constexpr const char* kSubnetInsert =
    "INSERT INTO subnets(subnet_id, account, region, vpc_id, az, cidr, doc, created_at) VALUES(?,?,?,?,?,?,?,?)";
constexpr const char* kSubnetRemove = "DELETE FROM subnets WHERE subnet_id=?";

constexpr const char* kGroupFind =
    "SELECT group_id, vpc_id, name, doc, created_at FROM security_groups WHERE account=? AND region=? AND group_id=?";
constexpr const char* kGroupFindByName =
    "SELECT group_id, vpc_id, name, doc, created_at FROM security_groups "
    "WHERE account=? AND region=? AND vpc_id=? AND name=?";
constexpr const char* kGroupList =
    "SELECT group_id, vpc_id, name, doc, created_at FROM security_groups WHERE account=? AND region=? ORDER BY rowid";
constexpr const char* kGroupListInVpc =
    "SELECT group_id, vpc_id, name, doc, created_at FROM security_groups WHERE vpc_id=? ORDER BY rowid";
constexpr const char* kGroupInsert =
    "INSERT INTO security_groups(group_id, account, region, vpc_id, name, doc, created_at) VALUES(?,?,?,?,?,?,?)";
constexpr const char* kGroupRemove = "DELETE FROM security_groups WHERE group_id=?";

constexpr const char* kRules =
    "SELECT rule_id, group_id, is_egress, referenced_group_id, doc, created_at FROM security_group_rules "
    "WHERE group_id=? ORDER BY rowid";
constexpr const char* kAllRules =
    "SELECT r.rule_id, r.group_id, r.is_egress, r.referenced_group_id, r.doc, r.created_at "
    "FROM security_group_rules r JOIN security_groups g ON g.group_id=r.group_id "
    "WHERE g.account=? AND g.region=? ORDER BY r.rowid";
constexpr const char* kRulesReferencing =
    "SELECT rule_id, group_id, is_egress, referenced_group_id, doc, created_at FROM security_group_rules "
    "WHERE referenced_group_id=?1 AND group_id<>?1 ORDER BY rowid";
constexpr const char* kRuleInsert =
    "INSERT INTO security_group_rules(rule_id, group_id, is_egress, referenced_group_id, doc, created_at) "
    "VALUES(?,?,?,?,?,?)";
constexpr const char* kRuleRemove = "DELETE FROM security_group_rules WHERE rule_id=?";

constexpr const char* kTagGet = "SELECT key, value FROM ec2_tags WHERE resource_id=? ORDER BY rowid";
constexpr const char* kTagPut =
    "INSERT INTO ec2_tags(account, region, resource_id, resource_type, key, value) VALUES(?,?,?,?,?,?) "
    "ON CONFLICT(resource_id, key) DO UPDATE SET value=excluded.value";
constexpr const char* kTagRemove = "DELETE FROM ec2_tags WHERE resource_id=? AND key=?";
constexpr const char* kTagRemoveIfValue = "DELETE FROM ec2_tags WHERE resource_id=? AND key=? AND value=?";
constexpr const char* kTagRemoveAll = "DELETE FROM ec2_tags WHERE resource_id=?";
constexpr const char* kTagList =
    "SELECT resource_id, resource_type, key, value FROM ec2_tags WHERE account=? AND region=? "
    "ORDER BY resource_id, key";

// Tasks are owned by ECS (task_repo.cpp); this is a read-only look at their ENI attachment.
constexpr const char* kAwsvpcTasks =
    "SELECT arn, last_status, doc FROM tasks WHERE account=? AND region=? AND last_status<>'STOPPED' "
    "AND json_extract(doc, '$.attachments[0].type')='ElasticNetworkInterface' ORDER BY id";

VpcRow vpc_from(const Stmt& s) { return {s.text(0), s.text(1), s.int64(2) != 0, json::parse(s.text(3)), s.real(4)}; }
SubnetRow subnet_from(const Stmt& s) {
  return {s.text(0), s.text(1), s.text(2), s.text(3), json::parse(s.text(4)), s.real(5)};
}
SecurityGroupRow group_from(const Stmt& s) {
  return {s.text(0), s.text(1), s.text(2), json::parse(s.text(3)), s.real(4)};
}
SecurityGroupRuleRow rule_from(const Stmt& s) {
  return {s.text(0), s.text(1), s.int64(2) != 0, s.text(3), json::parse(s.text(4)), s.real(5)};
}

// Steps `s` to the end collecting rows made by `from`, then resets it.
template <typename F>
auto all_rows(Stmt& s, F from) {
  std::vector<decltype(from(s))> out;
  while (s.step()) out.push_back(from(s));
  s.reset();
  return out;
}

template <typename F>
auto one_row(Stmt& s, F from) {
  std::optional<decltype(from(s))> out;
  if (s.step()) out = from(s);
  s.reset();
  return out;
}
}  // namespace

std::optional<VpcRow> VpcRepo::find(const Scope& scope, std::string_view id) {
  return one_row(db_.prepare(kVpcFind).bind_all(scope.account, scope.region, id), vpc_from);
}

std::optional<VpcRow> VpcRepo::find_default(const Scope& scope) {
  return one_row(db_.prepare(kVpcFindDefault).bind_all(scope.account, scope.region), vpc_from);
}

std::vector<VpcRow> VpcRepo::list(const Scope& scope) {
  return all_rows(db_.prepare(kVpcList).bind_all(scope.account, scope.region), vpc_from);
}

void VpcRepo::insert(const Scope& scope, const VpcRow& r) {
  db_.prepare(kVpcInsert)
      .bind_all(r.id, scope.account, scope.region, r.cidr, r.is_default ? 1 : 0, r.doc.dump(), r.created_at)
      .run();
}

void VpcRepo::remove(std::string_view id) { db_.prepare(kVpcRemove).bind_all(id).run(); }

bool VpcRepo::defaults_created(const Scope& scope) {
  auto& s = db_.prepare(kScopeFind).bind_all(scope.account, scope.region);
  bool found = s.step();
  s.reset();
  return found;
}

void VpcRepo::mark_defaults_created(const Scope& scope) {
  db_.prepare(kScopeInsert).bind_all(scope.account, scope.region).run();
}

std::optional<SubnetRow> SubnetRepo::find(const Scope& scope, std::string_view id) {
  return one_row(db_.prepare(kSubnetFind).bind_all(scope.account, scope.region, id), subnet_from);
}

std::vector<SubnetRow> SubnetRepo::list(const Scope& scope) {
  return all_rows(db_.prepare(kSubnetList).bind_all(scope.account, scope.region), subnet_from);
}

std::vector<SubnetRow> SubnetRepo::list_in_vpc(std::string_view vpc_id) {
  return all_rows(db_.prepare(kSubnetListInVpc).bind_all(vpc_id), subnet_from);
}

void SubnetRepo::insert(const Scope& scope, const SubnetRow& r) {
  db_.prepare(kSubnetInsert)
      .bind_all(r.id, scope.account, scope.region, r.vpc_id, r.az, r.cidr, r.doc.dump(), r.created_at)
      .run();
}

void SubnetRepo::remove(std::string_view id) { db_.prepare(kSubnetRemove).bind_all(id).run(); }

std::optional<SecurityGroupRow> SecurityGroupRepo::find(const Scope& scope, std::string_view id) {
  return one_row(db_.prepare(kGroupFind).bind_all(scope.account, scope.region, id), group_from);
}

std::optional<SecurityGroupRow> SecurityGroupRepo::find_by_name(const Scope& scope, std::string_view vpc_id,
                                                                std::string_view name) {
  return one_row(db_.prepare(kGroupFindByName).bind_all(scope.account, scope.region, vpc_id, name), group_from);
}

std::vector<SecurityGroupRow> SecurityGroupRepo::list(const Scope& scope) {
  return all_rows(db_.prepare(kGroupList).bind_all(scope.account, scope.region), group_from);
}

std::vector<SecurityGroupRow> SecurityGroupRepo::list_in_vpc(std::string_view vpc_id) {
  return all_rows(db_.prepare(kGroupListInVpc).bind_all(vpc_id), group_from);
}

void SecurityGroupRepo::insert(const Scope& scope, const SecurityGroupRow& r) {
  db_.prepare(kGroupInsert)
      .bind_all(r.id, scope.account, scope.region, r.vpc_id, r.name, r.doc.dump(), r.created_at)
      .run();
}

void SecurityGroupRepo::remove(std::string_view id) { db_.prepare(kGroupRemove).bind_all(id).run(); }

std::vector<SecurityGroupRuleRow> SecurityGroupRepo::rules(std::string_view group_id) {
  return all_rows(db_.prepare(kRules).bind_all(group_id), rule_from);
}

std::vector<SecurityGroupRuleRow> SecurityGroupRepo::all_rules(const Scope& scope) {
  return all_rows(db_.prepare(kAllRules).bind_all(scope.account, scope.region), rule_from);
}

std::vector<SecurityGroupRuleRow> SecurityGroupRepo::rules_referencing(std::string_view group_id) {
  return all_rows(db_.prepare(kRulesReferencing).bind_all(group_id), rule_from);
}

void SecurityGroupRepo::insert_rule(const SecurityGroupRuleRow& r) {
  db_.prepare(kRuleInsert)
      .bind_all(r.id, r.group_id, r.is_egress ? 1 : 0, r.referenced_group_id, r.doc.dump(), r.created_at)
      .run();
}

void SecurityGroupRepo::remove_rule(std::string_view rule_id) { db_.prepare(kRuleRemove).bind_all(rule_id).run(); }

Tags Ec2TagRepo::get(std::string_view resource_id) {
  auto& s = db_.prepare(kTagGet).bind_all(resource_id);
  Tags out;
  while (s.step()) out.emplace_back(s.text(0), s.text(1));
  s.reset();
  return out;
}

void Ec2TagRepo::put(const Scope& scope, std::string_view resource_id, std::string_view resource_type,
                     const Tags& tags) {
  for (const auto& [k, v] : tags)
    db_.prepare(kTagPut).bind_all(scope.account, scope.region, resource_id, resource_type, k, v).run();
}

void Ec2TagRepo::remove(std::string_view resource_id, std::string_view key, const std::optional<std::string>& value) {
  if (value)
    db_.prepare(kTagRemoveIfValue).bind_all(resource_id, key, *value).run();
  else
    db_.prepare(kTagRemove).bind_all(resource_id, key).run();
}

void Ec2TagRepo::remove_all(std::string_view resource_id) { db_.prepare(kTagRemoveAll).bind_all(resource_id).run(); }

std::vector<Ec2Tag> Ec2TagRepo::list(const Scope& scope) {
  return all_rows(db_.prepare(kTagList).bind_all(scope.account, scope.region), [](const Stmt& s) {
    return Ec2Tag{s.text(0), s.text(1), s.text(2), s.text(3)};
  });
}

std::vector<AwsvpcTaskRow> awsvpc_tasks(Db& db, const Scope& scope) {
  return all_rows(db.prepare(kAwsvpcTasks).bind_all(scope.account, scope.region), [](const Stmt& s) {
    return AwsvpcTaskRow{s.text(0), s.text(1), json::parse(s.text(2))};
  });
}

}  // namespace ecsd::store
