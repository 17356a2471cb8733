// ELBv2 rows: load balancers, listeners, rules (and the target groups their actions forward to),
// target groups and their registered targets with health. The AWS shapes live in `doc`; the
// columns hold what is queried or constrained. Schema (migration 4, see store.cpp):
//
//   load_balancers      id, account, region, name, arn, type, dns_name, state, doc, attributes
//    |                  UNIQUE(account, region, name)
//    +- listeners       id, load_balancer_id, arn, port, protocol, doc   UNIQUE(load_balancer_id, port)
//        +- rules       id, listener_id, arn, priority (NULL = the listener's default rule), doc
//            |          UNIQUE(listener_id, priority); doc = {Conditions, Actions}
//            +- rule_target_groups  rule_id, target_group_id, weight   (derived from the actions)
//   target_groups       id, account, region, name, arn, protocol, target_type, doc, attributes
//    +- targets         id, target_group_id, target_id, port, availability_zone,
//                       state, reason, description, drain_until     UNIQUE(target_group_id, target_id, port)
//
// Deleting a load balancer cascades to its listeners, rules and rule_target_groups; deleting a
// target group cascades to its targets (rule_target_groups must be empty first: ResourceInUse).
// Tags live in the shared `tags` table (TagRepo), keyed by ARN.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecsd/store/store.hpp"

namespace ecsd::store {

/// A load balancer. `status` is its State.Code (provisioning, active, ...).
struct LoadBalancerRow : Record {
  std::string type;              // application | network
  std::string dns_name;
  nlohmann::json attributes;     // {"key": "value"}, every attribute with its current value
};

/// A target group. `status` is unused.
struct TargetGroupRow : Record {
  std::string protocol;          // "" for lambda target groups
  std::string target_type;       // instance | ip | lambda | alb
  nlohmann::json attributes;     // {"key": "value"}
};

/// A listener. `name` and `status` are unused; DefaultActions live in its default rule.
struct ListenerRow : Record {
  std::int64_t load_balancer_id = 0;
  int port = 0;
  std::string protocol;
};

/// A listener rule; doc = {"Conditions": [...], "Actions": [...]} as ELBv2 returns them.
struct RuleRow : Record {
  std::int64_t listener_id = 0;
  std::optional<int> priority;   // nullopt: the listener's default rule
  bool is_default() const { return !priority; }
};

/// One target group a rule's forward action sends to.
struct RuleTargetGroup {
  std::int64_t target_group_id = 0;
  int weight = 1;
};

/// A registered target and its health as DescribeTargetHealth reports it.
struct TargetRow {
  std::int64_t id = 0, target_group_id = 0;
  std::string target_id;         // instance id, IP address, Lambda ARN or ALB ARN
  int port = 0;
  std::string availability_zone;
  std::string state, reason, description;
  double drain_until = 0;        // while state is draining: when the target is removed
  double registered_at = 0, updated_at = 0;
};

class LoadBalancerRepo {
 public:
  explicit LoadBalancerRepo(Db& db) : db_(db) {}
  std::optional<LoadBalancerRow> find_by_arn(std::string_view arn);
  std::optional<LoadBalancerRow> find(const Scope& scope, std::string_view name);
  std::optional<LoadBalancerRow> find_by_id(std::int64_t id);
  /// @return the load balancers of the scope, by name.
  std::vector<LoadBalancerRow> list(const Scope& scope);
  /// @return every load balancer of every account and region, by id.
  std::vector<LoadBalancerRow> all();
  /// @return how many load balancers of `type` the scope has.
  int count(const Scope& scope, std::string_view type);
  /// Inserts `r` (sets id, version 1).
  void insert(const Scope& scope, LoadBalancerRow& r);
  /// Writes state, doc and attributes if `r.version` is current. @throws ConflictError otherwise.
  void update(LoadBalancerRow& r);
  /// Deletes the load balancer with its listeners and rules.
  void remove(std::int64_t id);

 private:
  Db& db_;
};

class TargetGroupRepo {
 public:
  explicit TargetGroupRepo(Db& db) : db_(db) {}
  std::optional<TargetGroupRow> find_by_arn(std::string_view arn);
  std::optional<TargetGroupRow> find(const Scope& scope, std::string_view name);
  std::optional<TargetGroupRow> find_by_id(std::int64_t id);
  /// @return the target groups of the scope, by name.
  std::vector<TargetGroupRow> list(const Scope& scope);
  /// @return the target groups a listener or rule of the load balancer forwards to, by name.
  std::vector<TargetGroupRow> list_for_load_balancer(std::int64_t load_balancer_id);
  /// @return every target group some rule forwards to (all accounts and regions), by id.
  std::vector<TargetGroupRow> all_in_use();
  int count(const Scope& scope);
  /// @return ARNs of the load balancers whose listeners or rules forward to the target group.
  std::vector<std::string> load_balancer_arns(std::int64_t target_group_id);
  void insert(const Scope& scope, TargetGroupRow& r);
  /// @throws ConflictError when `r.version` is stale.
  void update(TargetGroupRow& r);
  /// Deletes the target group and its targets. The caller checks that no rule forwards to it.
  void remove(std::int64_t id);

 private:
  Db& db_;
};

class ListenerRepo {
 public:
  explicit ListenerRepo(Db& db) : db_(db) {}
  std::optional<ListenerRow> find_by_arn(std::string_view arn);
  std::optional<ListenerRow> find_by_id(std::int64_t id);
  std::optional<ListenerRow> find_by_port(std::int64_t load_balancer_id, int port);
  /// @return the listeners of a load balancer, by port.
  std::vector<ListenerRow> list(std::int64_t load_balancer_id);
  int count(std::int64_t load_balancer_id);
  void insert(ListenerRow& r);
  /// Writes port, protocol and doc. @throws ConflictError when `r.version` is stale.
  void update(ListenerRow& r);
  /// Deletes the listener and its rules.
  void remove(std::int64_t id);

 private:
  Db& db_;
};

class RuleRepo {
 public:
  explicit RuleRepo(Db& db) : db_(db) {}
  std::optional<RuleRow> find_by_arn(std::string_view arn);
  std::optional<RuleRow> find_by_priority(std::int64_t listener_id, int priority);
  /// @return the listener's default rule (every listener has exactly one).
  std::optional<RuleRow> default_rule(std::int64_t listener_id);
  /// @return the rules of a listener by priority, the default rule last.
  std::vector<RuleRow> list(std::int64_t listener_id);
  /// @return the number of non-default rules on all listeners of the load balancer.
  int count_for_load_balancer(std::int64_t load_balancer_id);
  /// @return ARNs of the rules of a listener (to drop their tags with it).
  std::vector<std::string> arns(std::int64_t listener_id);
  void insert(RuleRow& r);
  /// Writes doc. @throws ConflictError when `r.version` is stale.
  void update(RuleRow& r);
  /// Moves rules to new priorities in one step (a swap is fine). Pairs are (rule id, priority).
  void set_priorities(const std::vector<std::pair<std::int64_t, int>>& moves);
  void remove(std::int64_t id);
  /// Replaces the target groups the rule forwards to.
  void set_target_groups(std::int64_t rule_id, const std::vector<RuleTargetGroup>& groups);
  /// @return the ids of the target groups the rule forwards to.
  std::vector<std::int64_t> target_group_ids(std::int64_t rule_id);
  /// @return the ids of the target groups any rule of the load balancer forwards to.
  std::vector<std::int64_t> target_group_ids_for_load_balancer(std::int64_t load_balancer_id);

 private:
  Db& db_;
};

class TargetRepo {
 public:
  explicit TargetRepo(Db& db) : db_(db) {}
  /// @return the targets of a target group, in registration order.
  std::vector<TargetRow> list(std::int64_t target_group_id);
  std::optional<TargetRow> find(std::int64_t target_group_id, std::string_view target_id, int port);
  int count(std::int64_t target_group_id);
  /// Inserts `t` (sets id).
  void insert(TargetRow& t);
  /// Writes availability zone, state, reason, description, drain_until and updated_at.
  void update(const TargetRow& t);
  void remove(std::int64_t id);
  /// Deletes draining targets whose drain_until is at or before `now`. @return how many.
  int remove_drained(double now);

 private:
  Db& db_;
};

}  // namespace ecsd::store
