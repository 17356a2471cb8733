// ELBv2 rows: load balancers, target groups, listeners, rules and targets.
#include "ecsd/store/elbv2_repo.hpp"

#include "ecsd/store/repos.hpp"

namespace ecsd::store {

namespace {
// --- load balancers: columns 0-6 are a Record (status = State.Code), then type, dns_name, attributes.
#define ECSD_LB_COLUMNS "id, arn, name, state, doc, version, created_at, type, dns_name, attributes"
constexpr const char* kLbFindByArn = "SELECT " ECSD_LB_COLUMNS " FROM load_balancers WHERE arn=?";
constexpr const char* kLbFindById = "SELECT " ECSD_LB_COLUMNS " FROM load_balancers WHERE id=?";
constexpr const char* kLbFindByName =
    "SELECT " ECSD_LB_COLUMNS " FROM load_balancers WHERE account=? AND region=? AND name=?";
constexpr const char* kLbList =
    "SELECT " ECSD_LB_COLUMNS " FROM load_balancers WHERE account=? AND region=? ORDER BY name";
constexpr const char* kLbAll = "SELECT " ECSD_LB_COLUMNS " FROM load_balancers ORDER BY id";
constexpr const char* kLbCount = "SELECT count(*) FROM load_balancers WHERE account=? AND region=? AND type=?";
constexpr const char* kLbInsert =
    "INSERT INTO load_balancers(account, region, name, arn, type, dns_name, state, doc, attributes, version, "
    "created_at) VALUES(?,?,?,?,?,?,?,?,?,1,?)";
constexpr const char* kLbUpdate =
    "UPDATE load_balancers SET state=?, doc=?, attributes=?, version=version+1 WHERE id=? AND version=?";
constexpr const char* kLbDelete = "DELETE FROM load_balancers WHERE id=?";
#undef ECSD_LB_COLUMNS

// --- target groups: status is unused (''), then protocol, target_type, attributes.
#define ECSD_TG_COLUMNS "id, arn, name, '', doc, version, created_at, protocol, target_type, attributes"
constexpr const char* kTgFindByArn = "SELECT " ECSD_TG_COLUMNS " FROM target_groups WHERE arn=?";
constexpr const char* kTgFindById = "SELECT " ECSD_TG_COLUMNS " FROM target_groups WHERE id=?";
constexpr const char* kTgFindByName =
    "SELECT " ECSD_TG_COLUMNS " FROM target_groups WHERE account=? AND region=? AND name=?";
constexpr const char* kTgList =
    "SELECT " ECSD_TG_COLUMNS " FROM target_groups WHERE account=? AND region=? ORDER BY name";
constexpr const char* kTgListForLb =
    "SELECT " ECSD_TG_COLUMNS " FROM target_groups WHERE id IN ("
    "SELECT rt.target_group_id FROM rule_target_groups rt JOIN rules r ON r.id=rt.rule_id "
    "JOIN listeners l ON l.id=r.listener_id WHERE l.load_balancer_id=?) ORDER BY name";
constexpr const char* kTgAllInUse =
    "SELECT " ECSD_TG_COLUMNS " FROM target_groups WHERE id IN (SELECT target_group_id FROM rule_target_groups) "
    "ORDER BY id";
constexpr const char* kTgCount = "SELECT count(*) FROM target_groups WHERE account=? AND region=?";
constexpr const char* kTgLoadBalancers =
    "SELECT arn FROM load_balancers WHERE id IN ("
    "SELECT l.load_balancer_id FROM rule_target_groups rt JOIN rules r ON r.id=rt.rule_id "
    "JOIN listeners l ON l.id=r.listener_id WHERE rt.target_group_id=?) ORDER BY id";
constexpr const char* kTgInsert =
    "INSERT INTO target_groups(account, region, name, arn, protocol, target_type, doc, attributes, version, "
    "created_at) VALUES(?,?,?,?,?,?,?,?,1,?)";
constexpr const char* kTgUpdate =
    "UPDATE target_groups SET doc=?, attributes=?, version=version+1 WHERE id=? AND version=?";
constexpr const char* kTgDelete = "DELETE FROM target_groups WHERE id=?";
#undef ECSD_TG_COLUMNS

// --- listeners: name and status unused, then load_balancer_id, port, protocol.
#define ECSD_LISTENER_COLUMNS "id, arn, '', '', doc, version, created_at, load_balancer_id, port, protocol"
constexpr const char* kListenerFindByArn = "SELECT " ECSD_LISTENER_COLUMNS " FROM listeners WHERE arn=?";
constexpr const char* kListenerFindById = "SELECT " ECSD_LISTENER_COLUMNS " FROM listeners WHERE id=?";
constexpr const char* kListenerFindByPort =
    "SELECT " ECSD_LISTENER_COLUMNS " FROM listeners WHERE load_balancer_id=? AND port=?";
constexpr const char* kListenerList =
    "SELECT " ECSD_LISTENER_COLUMNS " FROM listeners WHERE load_balancer_id=? ORDER BY port";
constexpr const char* kListenerCount = "SELECT count(*) FROM listeners WHERE load_balancer_id=?";
constexpr const char* kListenerInsert =
    "INSERT INTO listeners(load_balancer_id, arn, port, protocol, doc, version, created_at) VALUES(?,?,?,?,?,1,?)";
constexpr const char* kListenerUpdate =
    "UPDATE listeners SET port=?, protocol=?, doc=?, version=version+1 WHERE id=? AND version=?";
constexpr const char* kListenerDelete = "DELETE FROM listeners WHERE id=?";
#undef ECSD_LISTENER_COLUMNS

// --- rules: name and status unused, then listener_id, priority (NULL for the default rule).
#define ECSD_RULE_COLUMNS "id, arn, '', '', doc, version, created_at, listener_id, priority"
constexpr const char* kRuleFindByArn = "SELECT " ECSD_RULE_COLUMNS " FROM rules WHERE arn=?";
constexpr const char* kRuleFindByPriority =
    "SELECT " ECSD_RULE_COLUMNS " FROM rules WHERE listener_id=? AND priority=?";
constexpr const char* kRuleDefault =
    "SELECT " ECSD_RULE_COLUMNS " FROM rules WHERE listener_id=? AND priority IS NULL";
constexpr const char* kRuleList =
    "SELECT " ECSD_RULE_COLUMNS " FROM rules WHERE listener_id=? ORDER BY priority IS NULL, priority";
#undef ECSD_RULE_COLUMNS
constexpr const char* kRuleCountForLb =
    "SELECT count(*) FROM rules r JOIN listeners l ON l.id=r.listener_id "
    "WHERE l.load_balancer_id=? AND r.priority IS NOT NULL";
constexpr const char* kRuleArns = "SELECT arn FROM rules WHERE listener_id=? ORDER BY id";
constexpr const char* kRuleInsert =
    "INSERT INTO rules(listener_id, arn, priority, doc, version, created_at) VALUES(?,?,?,?,1,?)";
constexpr const char* kRuleUpdate = "UPDATE rules SET doc=?, version=version+1 WHERE id=? AND version=?";
// Priorities are unique per listener, so moves park each rule on a negative priority first.
constexpr const char* kRulePark = "UPDATE rules SET priority=-id, version=version+1 WHERE id=?";
constexpr const char* kRuleSetPriority = "UPDATE rules SET priority=? WHERE id=?";
constexpr const char* kRuleDelete = "DELETE FROM rules WHERE id=?";
constexpr const char* kRuleTgClear = "DELETE FROM rule_target_groups WHERE rule_id=?";
constexpr const char* kRuleTgInsert =
    "INSERT INTO rule_target_groups(rule_id, target_group_id, weight) VALUES(?,?,?) "
    "ON CONFLICT(rule_id, target_group_id) DO UPDATE SET weight=excluded.weight";
constexpr const char* kRuleTgList = "SELECT target_group_id FROM rule_target_groups WHERE rule_id=? ORDER BY rowid";
constexpr const char* kRuleTgListForLb =
    "SELECT DISTINCT rt.target_group_id FROM rule_target_groups rt JOIN rules r ON r.id=rt.rule_id "
    "JOIN listeners l ON l.id=r.listener_id WHERE l.load_balancer_id=?";

// --- targets
#define ECSD_TARGET_COLUMNS                                                                                   \
  "id, target_group_id, target_id, port, availability_zone, state, reason, description, drain_until, "     \
  "registered_at, updated_at"
constexpr const char* kTargetList = "SELECT " ECSD_TARGET_COLUMNS " FROM targets WHERE target_group_id=? ORDER BY id";
constexpr const char* kTargetFind =
    "SELECT " ECSD_TARGET_COLUMNS " FROM targets WHERE target_group_id=? AND target_id=? AND port=?";
#undef ECSD_TARGET_COLUMNS
constexpr const char* kTargetCount = "SELECT count(*) FROM targets WHERE target_group_id=?";
constexpr const char* kTargetInsert =
    "INSERT INTO targets(target_group_id, target_id, port, availability_zone, state, reason, description, "
    "drain_until, registered_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?)";
constexpr const char* kTargetUpdate =
    "UPDATE targets SET availability_zone=?, state=?, reason=?, description=?, drain_until=?, updated_at=? "
    "WHERE id=?";
constexpr const char* kTargetDelete = "DELETE FROM targets WHERE id=?";
constexpr const char* kTargetRemoveDrained = "DELETE FROM targets WHERE state='draining' AND drain_until<=?";

nlohmann::json parse_or_object(const std::string& s) {
  return s.empty() ? nlohmann::json::object() : nlohmann::json::parse(s);
}

LoadBalancerRow lb_from(const Stmt& s) {
  LoadBalancerRow r;
  static_cast<Record&>(r) = detail::record_from(s);
  r.type = s.text(7);
  r.dns_name = s.text(8);
  r.attributes = parse_or_object(s.text(9));
  return r;
}

TargetGroupRow tg_from(const Stmt& s) {
  TargetGroupRow r;
  static_cast<Record&>(r) = detail::record_from(s);
  r.protocol = s.text(7);
  r.target_type = s.text(8);
  r.attributes = parse_or_object(s.text(9));
  return r;
}

ListenerRow listener_from(const Stmt& s) {
  ListenerRow r;
  static_cast<Record&>(r) = detail::record_from(s);
  r.load_balancer_id = s.int64(7);
  r.port = static_cast<int>(s.int64(8));
  r.protocol = s.text(9);
  return r;
}

RuleRow rule_from(const Stmt& s) {
  RuleRow r;
  static_cast<Record&>(r) = detail::record_from(s);
  r.listener_id = s.int64(7);
  if (!s.is_null(8)) r.priority = static_cast<int>(s.int64(8));
  return r;
}

TargetRow target_from(const Stmt& s) {
  TargetRow t;
  t.id = s.int64(0);
  t.target_group_id = s.int64(1);
  t.target_id = s.text(2);
  t.port = static_cast<int>(s.int64(3));
  t.availability_zone = s.text(4);
  t.state = s.text(5);
  t.reason = s.text(6);
  t.description = s.text(7);
  t.drain_until = s.real(8);
  t.registered_at = s.real(9);
  t.updated_at = s.real(10);
  return t;
}

// Steps `s` to the end converting each row with `from`, then resets it.
template <typename F>
auto all_of(Stmt& s, F from) {
  std::vector<decltype(from(s))> out;
  while (s.step()) out.push_back(from(s));
  s.reset();
  return out;
}

template <typename F>
auto one_of(Stmt& s, F from) {
  std::optional<decltype(from(s))> out;
  if (s.step()) out = from(s);
  s.reset();
  return out;
}

int count_of(Stmt& s) {
  int n = s.step() ? static_cast<int>(s.int64(0)) : 0;
  s.reset();
  return n;
}

std::vector<std::string> texts(Stmt& s) {
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  s.reset();
  return out;
}

std::vector<std::int64_t> ints(Stmt& s) {
  std::vector<std::int64_t> out;
  while (s.step()) out.push_back(s.int64(0));
  s.reset();
  return out;
}
}  // namespace

// --- LoadBalancerRepo ---

std::optional<LoadBalancerRow> LoadBalancerRepo::find_by_arn(std::string_view arn) {
  return one_of(db_.prepare(kLbFindByArn).bind_all(arn), lb_from);
}

std::optional<LoadBalancerRow> LoadBalancerRepo::find(const Scope& scope, std::string_view name) {
  return one_of(db_.prepare(kLbFindByName).bind_all(scope.account, scope.region, name), lb_from);
}

std::optional<LoadBalancerRow> LoadBalancerRepo::find_by_id(std::int64_t id) {
  return one_of(db_.prepare(kLbFindById).bind_all(id), lb_from);
}

std::vector<LoadBalancerRow> LoadBalancerRepo::list(const Scope& scope) {
  return all_of(db_.prepare(kLbList).bind_all(scope.account, scope.region), lb_from);
}

std::vector<LoadBalancerRow> LoadBalancerRepo::all() { return all_of(db_.prepare(kLbAll), lb_from); }

int LoadBalancerRepo::count(const Scope& scope, std::string_view type) {
  return count_of(db_.prepare(kLbCount).bind_all(scope.account, scope.region, type));
}

void LoadBalancerRepo::insert(const Scope& scope, LoadBalancerRow& r) {
  db_.prepare(kLbInsert)
      .bind_all(scope.account, scope.region, r.name, r.arn, r.type, r.dns_name, r.status, r.doc.dump(),
                r.attributes.dump(), r.created_at)
      .run();
  r.id = db_.last_insert_rowid();
  r.version = 1;
}

void LoadBalancerRepo::update(LoadBalancerRow& r) {
  db_.prepare(kLbUpdate).bind_all(r.status, r.doc.dump(), r.attributes.dump(), r.id, r.version).run();
  if (db_.changes() != 1) throw ConflictError("load balancer " + r.arn + " changed concurrently");
  ++r.version;
}

void LoadBalancerRepo::remove(std::int64_t id) { db_.prepare(kLbDelete).bind_all(id).run(); }

// --- TargetGroupRepo ---

std::optional<TargetGroupRow> TargetGroupRepo::find_by_arn(std::string_view arn) {
  return one_of(db_.prepare(kTgFindByArn).bind_all(arn), tg_from);
}

std::optional<TargetGroupRow> TargetGroupRepo::find(const Scope& scope, std::string_view name) {
  return one_of(db_.prepare(kTgFindByName).bind_all(scope.account, scope.region, name), tg_from);
}

std::optional<TargetGroupRow> TargetGroupRepo::find_by_id(std::int64_t id) {
  return one_of(db_.prepare(kTgFindById).bind_all(id), tg_from);
}

std::vector<TargetGroupRow> TargetGroupRepo::list(const Scope& scope) {
  return all_of(db_.prepare(kTgList).bind_all(scope.account, scope.region), tg_from);
}

std::vector<TargetGroupRow> TargetGroupRepo::list_for_load_balancer(std::int64_t load_balancer_id) {
  return all_of(db_.prepare(kTgListForLb).bind_all(load_balancer_id), tg_from);
}

std::vector<TargetGroupRow> TargetGroupRepo::all_in_use() { return all_of(db_.prepare(kTgAllInUse), tg_from); }

int TargetGroupRepo::count(const Scope& scope) {
  return count_of(db_.prepare(kTgCount).bind_all(scope.account, scope.region));
}

std::vector<std::string> TargetGroupRepo::load_balancer_arns(std::int64_t target_group_id) {
  return texts(db_.prepare(kTgLoadBalancers).bind_all(target_group_id));
}

void TargetGroupRepo::insert(const Scope& scope, TargetGroupRow& r) {
  db_.prepare(kTgInsert)
      .bind_all(scope.account, scope.region, r.name, r.arn, r.protocol, r.target_type, r.doc.dump(),
                r.attributes.dump(), r.created_at)
      .run();
  r.id = db_.last_insert_rowid();
  r.version = 1;
}

void TargetGroupRepo::update(TargetGroupRow& r) {
  db_.prepare(kTgUpdate).bind_all(r.doc.dump(), r.attributes.dump(), r.id, r.version).run();
  if (db_.changes() != 1) throw ConflictError("target group " + r.arn + " changed concurrently");
  ++r.version;
}

void TargetGroupRepo::remove(std::int64_t id) { db_.prepare(kTgDelete).bind_all(id).run(); }

// --- ListenerRepo ---

std::optional<ListenerRow> ListenerRepo::find_by_arn(std::string_view arn) {
  return one_of(db_.prepare(kListenerFindByArn).bind_all(arn), listener_from);
}

std::optional<ListenerRow> ListenerRepo::find_by_id(std::int64_t id) {
  return one_of(db_.prepare(kListenerFindById).bind_all(id), listener_from);
}

std::optional<ListenerRow> ListenerRepo::find_by_port(std::int64_t load_balancer_id, int port) {
  return one_of(db_.prepare(kListenerFindByPort).bind_all(load_balancer_id, port), listener_from);
}

std::vector<ListenerRow> ListenerRepo::list(std::int64_t load_balancer_id) {
  return all_of(db_.prepare(kListenerList).bind_all(load_balancer_id), listener_from);
}

int ListenerRepo::count(std::int64_t load_balancer_id) {
  return count_of(db_.prepare(kListenerCount).bind_all(load_balancer_id));
}

void ListenerRepo::insert(ListenerRow& r) {
  db_.prepare(kListenerInsert).bind_all(r.load_balancer_id, r.arn, r.port, r.protocol, r.doc.dump(), r.created_at).run();
  r.id = db_.last_insert_rowid();
  r.version = 1;
}

void ListenerRepo::update(ListenerRow& r) {
  db_.prepare(kListenerUpdate).bind_all(r.port, r.protocol, r.doc.dump(), r.id, r.version).run();
  if (db_.changes() != 1) throw ConflictError("listener " + r.arn + " changed concurrently");
  ++r.version;
}

void ListenerRepo::remove(std::int64_t id) { db_.prepare(kListenerDelete).bind_all(id).run(); }

// --- RuleRepo ---

std::optional<RuleRow> RuleRepo::find_by_arn(std::string_view arn) {
  return one_of(db_.prepare(kRuleFindByArn).bind_all(arn), rule_from);
}

std::optional<RuleRow> RuleRepo::find_by_priority(std::int64_t listener_id, int priority) {
  return one_of(db_.prepare(kRuleFindByPriority).bind_all(listener_id, priority), rule_from);
}

std::optional<RuleRow> RuleRepo::default_rule(std::int64_t listener_id) {
  return one_of(db_.prepare(kRuleDefault).bind_all(listener_id), rule_from);
}

std::vector<RuleRow> RuleRepo::list(std::int64_t listener_id) {
  return all_of(db_.prepare(kRuleList).bind_all(listener_id), rule_from);
}

int RuleRepo::count_for_load_balancer(std::int64_t load_balancer_id) {
  return count_of(db_.prepare(kRuleCountForLb).bind_all(load_balancer_id));
}

std::vector<std::string> RuleRepo::arns(std::int64_t listener_id) {
  return texts(db_.prepare(kRuleArns).bind_all(listener_id));
}

void RuleRepo::insert(RuleRow& r) {
  auto& s = db_.prepare(kRuleInsert).bind_all(r.listener_id, r.arn);
  if (r.priority) s.bind(3, *r.priority);
  else s.bind_null(3);
  s.bind(4, r.doc.dump()).bind(5, r.created_at).run();
  r.id = db_.last_insert_rowid();
  r.version = 1;
}

void RuleRepo::update(RuleRow& r) {
  db_.prepare(kRuleUpdate).bind_all(r.doc.dump(), r.id, r.version).run();
  if (db_.changes() != 1) throw ConflictError("rule " + r.arn + " changed concurrently");
  ++r.version;
}

void RuleRepo::set_priorities(const std::vector<std::pair<std::int64_t, int>>& moves) {
  for (const auto& [id, priority] : moves) db_.prepare(kRulePark).bind_all(id).run();
  for (const auto& [id, priority] : moves) db_.prepare(kRuleSetPriority).bind_all(priority, id).run();
}

void RuleRepo::remove(std::int64_t id) { db_.prepare(kRuleDelete).bind_all(id).run(); }

void RuleRepo::set_target_groups(std::int64_t rule_id, const std::vector<RuleTargetGroup>& groups) {
  db_.prepare(kRuleTgClear).bind_all(rule_id).run();
  for (const auto& g : groups) db_.prepare(kRuleTgInsert).bind_all(rule_id, g.target_group_id, g.weight).run();
}

std::vector<std::int64_t> RuleRepo::target_group_ids(std::int64_t rule_id) {
  return ints(db_.prepare(kRuleTgList).bind_all(rule_id));
}

std::vector<std::int64_t> RuleRepo::target_group_ids_for_load_balancer(std::int64_t load_balancer_id) {
  return ints(db_.prepare(kRuleTgListForLb).bind_all(load_balancer_id));
}

// --- TargetRepo ---

std::vector<TargetRow> TargetRepo::list(std::int64_t target_group_id) {
  return all_of(db_.prepare(kTargetList).bind_all(target_group_id), target_from);
}

std::optional<TargetRow> TargetRepo::find(std::int64_t target_group_id, std::string_view target_id, int port) {
  return one_of(db_.prepare(kTargetFind).bind_all(target_group_id, target_id, port), target_from);
}

int TargetRepo::count(std::int64_t target_group_id) {
  return count_of(db_.prepare(kTargetCount).bind_all(target_group_id));
}

void TargetRepo::insert(TargetRow& t) {
  db_.prepare(kTargetInsert)
      .bind_all(t.target_group_id, t.target_id, t.port, t.availability_zone, t.state, t.reason, t.description,
                t.drain_until, t.registered_at, t.updated_at)
      .run();
  t.id = db_.last_insert_rowid();
}

void TargetRepo::update(const TargetRow& t) {
  db_.prepare(kTargetUpdate)
      .bind_all(t.availability_zone, t.state, t.reason, t.description, t.drain_until, t.updated_at, t.id)
      .run();
}

void TargetRepo::remove(std::int64_t id) { db_.prepare(kTargetDelete).bind_all(id).run(); }

int TargetRepo::remove_drained(double now) {
  db_.prepare(kTargetRemoveDrained).bind_all(now).run();
  return db_.changes();
}

}  // namespace ecsd::store
